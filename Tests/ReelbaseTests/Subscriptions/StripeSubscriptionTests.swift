import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

/// Subscriptions through Stripe Billing, against the fake Stripe: the requests Stripe documents, the first invoice
/// paid at once, refused or awaiting 3-D Secure, and the webhooks that follow (API.md, "Gateway `stripe`").
@Suite("Subscriptions: Stripe Billing")
struct StripeSubscriptionTests {
    typealias Current = SubscriptionTests.Current

    /// The built-in plans on Stripe Prices, as a plans file.
    static func withPlansFile<R: Sendable>(_ body: @Sendable (String) async throws -> R) async throws -> R {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plans-\(UUID().uuidString).json").path
        let file = """
            {"plans": [
              {"id": "plus_monthly", "name": "Plus", "credits_per_period": 600, "price": 9.99, "stripe_price_id": "price_plus"},
              {"id": "pro_monthly", "name": "Pro", "credits_per_period": 2500, "price": 29.99, "stripe_price_id": "price_pro"}
            ]}
            """
        try Data(file.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }

    static func run(
        _ database: TestDatabase, _ body: @escaping @Sendable (FakeStripe, TestClient, Reelbase.Database) async throws -> Void
    ) async throws {
        try await Self.withPlansFile { plans in
            try await FakeStripe.run { fake in
                try await TestApp.runWithDatabase(database, settings: fake.settings.merging(["subscription.plans.file": plans]) { $1 }) { client, db in
                    try await body(fake, client, db)
                }
            }
        }
    }

    /// An `invoice.*` event in the pinned API version's shape: the subscription under `parent.subscription_details`,
    /// the period on the subscription line item (and a misleading invoice-level period, as Stripe's is the one before).
    static func invoiceEvent(
        _ type: String = "invoice.paid", invoice: String, reason: String, gatewayID: String, subscriptionID: String?, period: (Date, Date),
        price: String = "price_plus", amount: Int = 999, created: Int
    ) -> String {
        FakeStripe.event(
            type: type,
            object: [
                "id": invoice, "object": "invoice", "billing_reason": reason, "amount_paid": amount, "status": "paid",
                "period_start": Int(period.0.timeIntervalSince1970) - 2_592_000, "period_end": Int(period.0.timeIntervalSince1970),
                "parent": [
                    "type": "subscription_details",
                    "subscription_details": [
                        "subscription": gatewayID, "metadata": subscriptionID.map { ["subscription_id": $0] } ?? [String: String](),
                    ] as [String: Any],
                ] as [String: Any],
                "lines": [
                    "data": [
                        [
                            "id": "il_\(invoice)", "amount": amount,
                            "period": ["start": Int(period.0.timeIntervalSince1970), "end": Int(period.1.timeIntervalSince1970)],
                            "parent": ["type": "subscription_item_details", "subscription_item_details": ["subscription_item": "si_fake_1"]],
                            "pricing": ["price_details": ["price": price]],
                        ] as [String: Any]
                    ]
                ],
            ], created: created)
    }

    static func subscriptionEvent(
        _ type: String = "customer.subscription.updated", gatewayID: String, subscriptionID: String, status: String, cancelAtPeriodEnd: Bool = false,
        created: Int
    ) -> String {
        FakeStripe.event(
            type: type,
            object: [
                "id": gatewayID, "object": "subscription", "status": status, "cancel_at_period_end": cancelAtPeriodEnd,
                "metadata": ["subscription_id": subscriptionID],
            ], created: created)
    }

    @Test(arguments: TestDatabase.allCases)
    func aSubscriptionIsMadeOnThePlansPriceForOneCustomerAndGrantedOnce(_ database: TestDatabase) async throws {
        try await Self.run(database) { fake, client, db in
            let ann = try await client.register()
            let response = try await client.subscribe(ann, token: "pm_card_visa", key: "sub-ann")
            #expect(response.status == .created, "\(response.text)")
            let body = try response.decode(SubscriptionTests.Subscribed.self)
            #expect(body.creditsAdded == 600 && body.newBalance == 600 && body.subscription.status == "active")

            let customers = await fake.state.customers
            #expect(customers.count == 1)
            #expect(customers.first?.form == ["email": ann.email, "metadata[user_id]": ann.id])
            #expect(customers.first?.idempotencyKey == "reelbase_customer_\(ann.id)")
            let created = try #require(await fake.state.subscriptions.first)
            #expect(
                created.form == [
                    "customer": "cus_fake_1", "items[0][price]": "price_plus", "default_payment_method": "pm_card_visa",
                    "payment_behavior": "error_if_incomplete", "expand[0]": "latest_invoice.confirmation_secret",
                    "metadata[subscription_id]": body.subscription.id, "metadata[user_id]": ann.id,
                ])
            #expect(created.idempotencyKey?.hasPrefix("reelbase_subscription_") == true)
            #expect(await fake.state.versions == [StripeGateway.apiVersion])
            // The first period is Stripe's: the subscription item's.
            let stored = try #require(try await db.sql.raw("SELECT gateway_subscription_id, gateway_item_id FROM subscriptions").first())
            #expect(try stored.decode(column: "gateway_subscription_id", as: String.self) == "sub_fake_1")
            #expect(try stored.decode(column: "gateway_item_id", as: String.self) == "si_fake_1")

            // The same first invoice, reported by its webhook (five times), and a proration invoice: nothing more.
            let period = (body.subscription.currentPeriodStart, body.subscription.currentPeriodEnd)
            let now = Int(Date().timeIntervalSince1970)
            let createPaid = Self.invoiceEvent(
                invoice: "in_fake_1", reason: "subscription_create", gatewayID: "sub_fake_1", subscriptionID: body.subscription.id, period: period,
                created: now)
            for _ in 0..<5 { #expect(try await client.webhook(createPaid).status == .ok) }
            let proration = Self.invoiceEvent(
                invoice: "in_proration", reason: "subscription_update", gatewayID: "sub_fake_1", subscriptionID: body.subscription.id, period: period,
                created: now)
            #expect(try await client.webhook(proration).status == .ok)
            #expect(try await client.balance(ann).balance == 600)

            // The next period's invoice, five distinct deliveries at once, out of order with an update.
            let next = (period.1, SubscriptionPeriods(fixedLength: nil).start(of: 2, anchor: period.0))
            let cyclePaid = (0..<5).map { _ in
                Self.invoiceEvent(
                    invoice: "in_cycle_2", reason: "subscription_cycle", gatewayID: "sub_fake_1", subscriptionID: body.subscription.id, period: next,
                    created: now + 60)
            }
            let update = Self.subscriptionEvent(gatewayID: "sub_fake_1", subscriptionID: body.subscription.id, status: "active", created: now + 30)
            try await concurrently(cyclePaid + [update], width: 6) { payload in
                let answer = try await client.webhook(payload)
                #expect(answer.status == .ok, "\(answer.text)")
            }
            let history = try await client.history(ann).transactions.map(\.transactionType)
            #expect(history == ["subscription", "expiry", "subscription"] || history == ["subscription", "subscription"])
            #expect(try await db.count("subscription_grants") == 2)
            let current = try await client.current(ann)
            #expect(current.currentPeriodStart == next.0 && current.currentPeriodEnd == next.1 && current.status == "active")
            #expect(try await db.count("notifications", where: "type = 'subscription_renewed'") == 1)
            _ = try await client.subscribe(ann, token: "pm_card_visa").expectProblem(409, code: "subscription_exists")
            #expect(await fake.state.subscriptions.count == 1)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func cancelResumeAndPlanChangesGoThroughStripeAndItsErrorsChangeNothing(_ database: TestDatabase) async throws {
        try await Self.run(database) { fake, client, db in
            let ann = try await client.register()
            let first = try await client.subscribe(ann, token: "pm_card_visa").decode(SubscriptionTests.Subscribed.self).subscription

            await fake.state.refuseChanges(true)
            for path in ["/v1/subscriptions/current/cancel", "/v1/subscriptions/current/resume"] {
                _ = try await client.post(path, token: ann.accessToken).expectProblem(502, code: "payment_gateway_error")
            }
            _ = try await client.request(.patch, "/v1/subscriptions/current", token: ann.accessToken, json: ["plan_id": "pro_monthly"])
                .expectProblem(502, code: "payment_gateway_error")
            #expect(try await client.current(ann) == first)
            await fake.state.refuseChanges(false)

            #expect(try await client.post("/v1/subscriptions/current/cancel", token: ann.accessToken).decode(Current.self).cancelAtPeriodEnd)
            #expect(!(try await client.post("/v1/subscriptions/current/resume", token: ann.accessToken).decode(Current.self).cancelAtPeriodEnd))
            let changed = try await client.request(.patch, "/v1/subscriptions/current", token: ann.accessToken, json: ["plan_id": "pro_monthly"])
                .decode(Current.self)
            #expect(changed.pendingPlanId == "pro_monthly" && changed.planId == "plus_monthly")
            let changes = await fake.state.subscriptionChanges
            #expect(changes.map(\.id) == ["sub_fake_1", "sub_fake_1", "sub_fake_1"])
            #expect(changes.map(\.form) == [
                ["cancel_at_period_end": "true"], ["cancel_at_period_end": "false"],
                ["items[0][id]": "si_fake_1", "items[0][price]": "price_pro", "proration_behavior": "none"],
            ])

            // The renewal Stripe charges at the new price grants the new plan.
            let next = (first.currentPeriodEnd, SubscriptionPeriods(fixedLength: nil).start(of: 2, anchor: first.currentPeriodStart))
            let paid = Self.invoiceEvent(
                invoice: "in_pro", reason: "subscription_cycle", gatewayID: "sub_fake_1", subscriptionID: first.id, period: next, price: "price_pro",
                amount: 2999, created: Int(Date().timeIntervalSince1970))
            #expect(try await client.webhook(paid).status == .ok)
            let renewed = try await client.current(ann)
            #expect(renewed.planId == "pro_monthly" && renewed.pendingPlanId == nil)
            #expect(try await client.history(ann).transactions.first?.credits == 2500)
            #expect(try await client.history(ann).transactions.first?.description.hasPrefix("Pro: 2500 credits for ") == true)
            #expect(try await db.count("payments", where: "amount_cents = 2999 AND status = 'succeeded'") == 1)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aDeclinedCardKeepsNothingAndThreeDSecureIsCreditedByTheWebhook(_ database: TestDatabase) async throws {
        try await Self.run(database) { fake, client, db in
            let ann = try await client.register()
            _ = try await client.subscribe(ann, token: "pm_card_chargeDeclined").expectProblem(402, code: "payment_failed")
            #expect(try await db.count("subscriptions") == 0)

            let pending = try await client.subscribe(ann, token: "pm_card_threeDSecure")
            #expect(pending.status == .accepted, "\(pending.text)")
            struct Pending: Decodable {
                var subscription: Current
                var paymentIntentId: String
                var clientSecret: String
            }
            let body = try pending.decode(Pending.self)
            #expect(body.subscription.status == "incomplete")
            #expect(body.paymentIntentId == "pi_fake_sub_1" && body.clientSecret == "pi_fake_sub_1_secret_abc")
            #expect(try await client.balance(ann).balance == 0)

            let paid = Self.invoiceEvent(
                invoice: "in_fake_1", reason: "subscription_create", gatewayID: "sub_fake_1", subscriptionID: body.subscription.id,
                period: (body.subscription.currentPeriodStart, body.subscription.currentPeriodEnd), created: Int(Date().timeIntervalSince1970))
            #expect(try await client.webhook(paid).status == .ok)
            #expect(try await client.current(ann).status == "active")
            #expect(try await client.balance(ann).balance == 600)
            #expect(try await db.count("notifications", where: "type = 'purchase_credited'") == 1)
            #expect(await fake.state.customers.count == 1)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func subscriptionEventsApplyOnlyWhenNewerAndCanceledIsFinal(_ database: TestDatabase) async throws {
        try await Self.run(database) { _, client, db in
            let ann = try await client.register()
            let first = try await client.subscribe(ann, token: "pm_card_visa").decode(SubscriptionTests.Subscribed.self).subscription
            let t = Int(Date().timeIntervalSince1970)
            func deliver(_ payload: String) async throws { #expect(try await client.webhook(payload).status == .ok) }

            let failed = Self.invoiceEvent(
                "invoice.payment_failed", invoice: "in_fail", reason: "subscription_cycle", gatewayID: "sub_fake_1", subscriptionID: first.id,
                period: (first.currentPeriodEnd, first.currentPeriodEnd), created: t + 10)
            try await deliver(failed)
            try await deliver(Self.invoiceEvent(
                "invoice.payment_failed", invoice: "in_fail", reason: "subscription_cycle", gatewayID: "sub_fake_1", subscriptionID: first.id,
                period: (first.currentPeriodEnd, first.currentPeriodEnd), created: t + 11))
            #expect(try await client.current(ann).status == "past_due")
            #expect(try await db.count("notifications", where: "type = 'subscription_payment_failed'") == 1)
            // Older than what was applied: ignored.
            try await deliver(Self.subscriptionEvent(gatewayID: "sub_fake_1", subscriptionID: first.id, status: "active", created: t + 5))
            #expect(try await client.current(ann).status == "past_due")
            try await deliver(Self.subscriptionEvent(gatewayID: "sub_fake_1", subscriptionID: first.id, status: "unpaid", created: t + 20))
            #expect(try await client.current(ann).status == "past_due")
            try await deliver(
                Self.subscriptionEvent("customer.subscription.deleted", gatewayID: "sub_fake_1", subscriptionID: first.id, status: "canceled", created: t + 30))
            #expect(try await client.current(ann).status == "canceled")
            try await deliver(Self.subscriptionEvent(gatewayID: "sub_fake_1", subscriptionID: first.id, status: "active", created: t + 40))
            #expect(try await client.current(ann).status == "canceled")
            // A paid invoice always grants its period, even after cancellation; the subscription stays canceled.
            let next = (first.currentPeriodEnd, SubscriptionPeriods(fixedLength: nil).start(of: 2, anchor: first.currentPeriodStart))
            try await deliver(Self.invoiceEvent(
                invoice: "in_late", reason: "subscription_cycle", gatewayID: "sub_fake_1", subscriptionID: first.id, period: next, created: t + 50))
            #expect(try await client.current(ann).status == "canceled")
            #expect(try await db.count("subscription_grants") == 2)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aRefundOfASubscriptionInvoiceTakesFromItsPeriodReversesTheReferralAndDoesNotCancel(_ database: TestDatabase) async throws {
        try await Self.run(database) { _, client, db in
            let bob = try await client.register()
            struct Me: Decodable { var referralCode: String }
            let code = try await client.get("/v1/users/me", token: bob.accessToken).decode(Me.self).referralCode
            let ann = try await client.register(referralCode: code)
            #expect(try await client.subscribe(ann, token: "pm_card_visa").status == .created)
            #expect(try await client.balance(ann).balance == 650)
            #expect(try await client.balance(bob).balance == 100)

            // The refund comes before Stripe says which intent paid the invoice: it waits for that.
            let partial = FakeStripe.refundEvent(intentID: "pi_invoice_1", amount: 999, amountRefunded: 500)
            #expect(try await client.webhook(partial).status == .ok)
            #expect(try await client.balance(ann).balance == 650)
            let paidBy = FakeStripe.event(
                type: "invoice_payment.paid",
                object: [
                    "id": "inpay_1", "object": "invoice_payment", "invoice": "in_fake_1", "status": "paid",
                    "payment": ["type": "payment_intent", "payment_intent": "pi_invoice_1"],
                ])
            #expect(try await client.webhook(paidBy).status == .ok)
            // ⌊600 × 500 ÷ 999⌋ = 300 from the period's lot, and the 50 welcome bonus reversed; bob's 100 too.
            #expect(try await client.balance(ann).balance == 300)
            #expect(try await client.balance(bob).balance == 0)
            let refund = try await client.history(ann).transactions.first { $0.transactionType == "refund" }
            #expect(refund?.credits == -300 && refund?.description == "Card refund: Plus (300 credits)")
            #expect(try await client.current(ann).status == "active")

            // The rest refunded: the period's other 300.
            let full = FakeStripe.refundEvent(intentID: "pi_invoice_1", amount: 999, amountRefunded: 999)
            #expect(try await client.webhook(full).status == .ok)
            #expect(try await client.balance(ann).balance == 0)
            #expect(try await client.current(ann).status == "active")
            #expect(try await db.count("payments", where: "refunded_credits = 600 AND subscription_id IS NOT NULL") == 1)
            try await client.expectCleanAudit()
        }
    }
}
