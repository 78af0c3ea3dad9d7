import Hummingbird

/// `GET /v1/payments/config` (public): what a web client needs to collect cards — which gateway takes them and, for
/// Stripe.js, the publishable key (`null` with the mock gateway, whose tokens are typed in).
struct PaymentConfigRoutes {
    let gateway: AppConfiguration.PaymentGatewayKind
    let publishableKey: String?

    struct PaymentConfig: ResponseEncodable {
        var gateway: String
        var publishableKey: String?

        enum CodingKeys: String, CodingKey {
            case gateway
            case publishableKey = "publishable_key"
        }

        // `publishable_key` is always present, `null` when there is none.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.gateway, forKey: .gateway)
            try container.encode(self.publishableKey, forKey: .publishableKey)
        }
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        let config = PaymentConfig(gateway: self.gateway.rawValue, publishableKey: self.gateway == .stripe ? self.publishableKey : nil)
        group.get("config") { _, _ in config }
    }
}
