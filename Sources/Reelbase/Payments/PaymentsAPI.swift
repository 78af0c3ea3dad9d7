/// OpenAPI part: the payment configuration and webhooks.
enum PaymentsAPI: APIPart {
    static var paths: OAS.Object {
        [
            "/v1/payments/config": [
                "get": OAS.operation(
                    "Which gateway takes cards, and Stripe.js's publishable key (null with the mock gateway)",
                    tag: "Payments", auth: .none,
                    responses: [
                        200: (
                            "The payment configuration",
                            OAS.object(
                                ["gateway": OAS.string(["mock", "stripe"]), "publishable_key": OAS.nullable(OAS.string)],
                                required: ["gateway", "publishable_key"])
                        )
                    ])
            ],
            "/v1/payments/webhooks/stripe": [
                "post": OAS.operation(
                    "Stripe events, verified by the Stripe-Signature header (400 for a missing, forged or stale signature, or a header over 4 KiB; only the first 8 v1 values are tried)",
                    tag: "Payments", auth: .none,
                    parameters: [
                        ["name": "Stripe-Signature", "in": "header", "required": true, "schema": OAS.string,
                         "description": "t=<unix time>,v1=<hex HMAC-SHA256 of \"t.body\">[,v1=…]"]
                    ],
                    body: ["type": "object"],
                    responses: [200: ("Verified (and applied, or ignored)", OAS.object(["received": OAS.boolean]))])
            ]
        ]
    }

    static var schemas: OAS.Object { [:] }
}
