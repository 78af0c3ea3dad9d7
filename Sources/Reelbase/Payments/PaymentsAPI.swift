/// OpenAPI part: payment webhooks.
enum PaymentsAPI: APIPart {
    static var paths: OAS.Object { [:] }
    static var schemas: OAS.Object { [:] }
}
