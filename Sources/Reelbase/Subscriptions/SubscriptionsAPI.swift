/// OpenAPI part: subscription plans and the caller's subscription.
enum SubscriptionsAPI: APIPart {
    static var paths: OAS.Object {
        let subscription = OAS.ref("Subscription")
        return [
            "/v1/subscriptions/plans": [
                "get": OAS.operation(
                    "Subscription plans on sale", tag: "Subscriptions", auth: .none,
                    responses: [200: ("Plans", OAS.object(["plans": OAS.array(OAS.ref("SubscriptionPlan"))]))])
            ],
            "/v1/subscriptions": [
                "post": OAS.operation(
                    "Subscribe: the first period is charged and its credits granted at once (404 unknown plan, 402 declined, 409 subscription_exists)",
                    tag: "Subscriptions", auth: .user,
                    body: OAS.object(
                        ["plan_id": OAS.string, "payment_method": OAS.string, "payment_token": OAS.string],
                        required: ["plan_id", "payment_method", "payment_token"]),
                    idempotent: true,
                    responses: [
                        201: (
                            "Subscribed and credited",
                            OAS.object([
                                "subscription": subscription, "transaction_id": OAS.uuid, "credits_added": OAS.integer, "new_balance": OAS.integer,
                            ])
                        ),
                        202: (
                            "The first payment needs customer action; credited when it succeeds",
                            OAS.object(["subscription": subscription, "payment_intent_id": OAS.string, "client_secret": OAS.string])
                        ),
                    ])
            ],
            "/v1/subscriptions/current": [
                "get": OAS.operation(
                    "The caller's latest subscription, also a canceled one (404 subscription_not_found)", tag: "Subscriptions", auth: .user,
                    responses: [200: ("Subscription", subscription)]),
                "patch": OAS.operation(
                    "Change the plan from the next renewal, or the payment method from now (charged at once when past due: 402 if declined)",
                    tag: "Subscriptions", auth: .user,
                    body: OAS.object(["plan_id": OAS.string, "payment_method": OAS.string, "payment_token": OAS.string]),
                    responses: [200: ("Subscription", subscription)]),
            ],
            "/v1/subscriptions/current/cancel": [
                "post": OAS.operation(
                    "Cancel: an active one at its period's end, a past-due or incomplete one now (409 subscription_ended)",
                    tag: "Subscriptions", auth: .user, responses: [200: ("Subscription", subscription)])
            ],
            "/v1/subscriptions/current/resume": [
                "post": OAS.operation(
                    "Undo a cancel at period end (409 subscription_ended)", tag: "Subscriptions", auth: .user,
                    responses: [200: ("Subscription", subscription)])
            ],
        ]
    }

    static var schemas: OAS.Object {
        [
            "SubscriptionPlan": OAS.object(
                [
                    "id": OAS.string, "name": OAS.string, "credits_per_period": OAS.integer, "price": OAS.number, "currency": OAS.string,
                    "interval": OAS.string(["month"]),
                ], required: ["id", "name", "credits_per_period", "price", "currency", "interval"]),
            "Subscription": OAS.object(
                [
                    "id": OAS.uuid, "plan_id": OAS.string, "status": OAS.string(["incomplete", "active", "past_due", "canceled"]),
                    "current_period_start": OAS.dateTime, "current_period_end": OAS.dateTime, "cancel_at_period_end": OAS.boolean,
                    "pending_plan_id": OAS.nullable(OAS.string), "created_at": OAS.dateTime,
                ],
                required: [
                    "id", "plan_id", "status", "current_period_start", "current_period_end", "cancel_at_period_end", "pending_plan_id",
                    "created_at",
                ]),
        ]
    }
}
