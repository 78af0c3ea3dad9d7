import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

@Suite("Payments: Stripe webhooks")
struct StripeWebhookTests {
    /// A user with a 3-D Secure purchase left pending (intent `pi_fake_1`).
    static func pendingPurchase(_ client: TestClient) async throws -> TestClient.User {
        let user = try await client.register()
        let response = try await client.purchase(user, token: "pm_card_threeDSecure", key: "3ds")
        #expect(response.status.code == 202, "\(response.text)")
        #expect(try keys(of: response) == ["status", "payment_intent_id", "client_secret"])
        let body = try response.decode(API.PendingPurchase.self)
        #expect(body.status == "pending" && body.paymentIntentId == "pi_fake_1")
        #expect(body.clientSecret == "pi_fake_1_secret_abc")
        return user
    }

    @Test(arguments: TestDatabase.allCases)
    func pendingPurchaseIsCreditedOnceBySucceededEvents(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.runWithDatabase(database, settings: fake.settings) { client, db in
                let user = try await Self.pendingPurchase(client)
                #expect(try await client.balance(user).balance == 0)
                #expect(try await db.paymentStatus("pi_fake_1") == "pending")

                let event = FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1", id: "evt_1")
                let response = try await client.webhook(event)
                #expect(response.status == .ok)
                #expect(response.text == #"{"received":true}"#)
                #expect(try await client.balance(user).balance == 500)
                #expect(try await db.paymentStatus("pi_fake_1") == "succeeded")
                #expect(try await db.count("payments", where: "credited_transaction_id IS NOT NULL") == 1)

                // The same event again, and Stripe's second event for the same intent: no second credit.
                #expect(try await client.webhook(event).status == .ok)
                #expect(try await client.webhook(FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1")).status == .ok)
                #expect(try await client.balance(user).balance == 500)

                let rows = try await client.get("/v1/credits/history", token: user.accessToken).decode(API.History.self).transactions
                #expect(rows.count == 1)
                #expect(rows.first?.description == "Purchased Basic Pack (500 credits)")
                #expect(
                    try await db.extraData(type: "purchase")
                        == [["package_id": "basic_500", "payment_method": "card", "gateway": "stripe", "gateway_payment_id": "pi_fake_1"]])
                #expect(try await db.count("webhook_events") == 2)

                // A retry of the purchase still answers its pending response; it never charges again.
                let replay = try await client.purchase(user, token: "pm_card_threeDSecure", key: "3ds")
                #expect(replay.status.code == 202)
                #expect(await fake.state.intents.count == 1)
                try await client.expectCleanAudit()
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func failedThenSucceededIsCreditedOnce(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.runWithDatabase(database, settings: fake.settings) { client, db in
                let user = try await Self.pendingPurchase(client)
                #expect(try await client.webhook(FakeStripe.intentEvent("payment_intent.payment_failed", intentID: "pi_fake_1")).status == .ok)
                #expect(try await db.paymentStatus("pi_fake_1") == "failed")
                #expect(try await client.balance(user).balance == 0)

                #expect(try await client.webhook(FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1")).status == .ok)
                #expect(try await client.webhook(FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1")).status == .ok)
                // A late failure report does not undo the success.
                #expect(try await client.webhook(FakeStripe.intentEvent("payment_intent.payment_failed", intentID: "pi_fake_1")).status == .ok)
                #expect(try await db.paymentStatus("pi_fake_1") == "succeeded")
                #expect(try await client.balance(user).balance == 500)
                #expect(try await db.count("credit_transactions") == 1)
                try await client.expectCleanAudit()
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func concurrentDeliveriesCreditOnce(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.runWithDatabase(database, settings: fake.settings) { client, db in
                let user = try await Self.pendingPurchase(client)
                let sameEvent = FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1", id: "evt_burst")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<12 {
                        let event = index.isMultiple(of: 2) ? sameEvent : FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1")
                        group.addTask {
                            let response = try await client.webhook(event)
                            #expect(response.status == .ok, "\(response.text)")
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(try await client.balance(user).balance == 500)
                #expect(try await db.count("credit_transactions") == 1)
                #expect(try await db.count("webhook_events") == 7)
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func unverifiedDeliveriesAre400AndChangeNothing(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.runWithDatabase(database, settings: fake.settings) { client, db in
                let user = try await Self.pendingPurchase(client)
                let event = FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1", id: "evt_1")
                // One timestamp for every header built from the valid signature: its v1 signs that very `t`.
                let signedAt = Date()
                let valid = FakeStripe.signature(for: event, at: signedAt)
                let validV1 = try #require(valid.split(separator: ",").last)
                let now = Int(Date().timeIntervalSince1970)
                let headers: [String?] = [
                    nil,
                    "",
                    FakeStripe.signature(for: event, secret: "whsec_someone_else"),
                    FakeStripe.signature(for: event, at: Date().addingTimeInterval(-301)),
                    FakeStripe.signature(for: event, at: Date().addingTimeInterval(3600)),
                    FakeStripe.signature(for: event + " "),
                    "garbage",
                    "t=\(now)",
                    String(validV1),
                    "t=soon,\(validV1)",
                    "t=\(now),t=\(now),\(validV1)",
                    "t=\(now),v1=zz",
                    "t=\(now),v0=\(validV1.dropFirst(3))",
                ]
                for header in headers {
                    let response = try await client.webhook(event, stripeSignature: header)
                    try response.expectProblem(400, code: "invalid_signature")
                }
                // A body other than the signed one.
                let tampered = FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1", id: "evt_2")
                try await client.webhook(tampered, stripeSignature: valid).expectProblem(400, code: "invalid_signature")

                #expect(try await client.balance(user).balance == 0)
                #expect(try await db.count("webhook_events") == 0)
                #expect(try await db.paymentStatus("pi_fake_1") == "pending")

                // While a secret is rolled Stripe sends one v1 per secret: any match is enough.
                let rolled = FakeStripe.signature(for: event, secret: "whsec_old_secret", at: signedAt) + "," + validV1
                #expect(try await client.webhook(event, stripeSignature: rolled).status == .ok)
                #expect(try await client.balance(user).balance == 500)
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func withoutAWebhookSecretEveryEventIsRefused(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let event = FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_x")
            try await client.webhook(event).expectProblem(400, code: "invalid_signature")
            #expect(try await db.count("webhook_events") == 0)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func verifiedEventsThatMatchNothingAre200AndIgnored(_ database: TestDatabase) async throws {
        // The mock gateway: the webhook route is active whatever the gateway.
        try await TestApp.runWithDatabase(database, settings: ["stripe.webhook.secret": FakeStripe.webhookSecret]) { client, db in
            let user = try await client.register()
            #expect(try await client.purchase(user, token: "pm_card_visa").status == .ok)
            let mockPaymentID = try #require(try await db.extraData(type: "purchase").first?["gateway_payment_id"])
            let events = [
                FakeStripe.event(type: "customer.created", object: ["id": "cus_1", "object": "customer"]),
                FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_nobody"),
                FakeStripe.intentEvent("payment_intent.succeeded", intentID: mockPaymentID),
                FakeStripe.intentEvent("payment_intent.payment_failed", intentID: "pi_nobody"),
                FakeStripe.refundEvent(intentID: "pi_nobody", amount: 1999, amountRefunded: 1999),
                FakeStripe.refundEvent(intentID: mockPaymentID, amount: 1999, amountRefunded: 1999),
            ]
            for event in events {
                let response = try await client.webhook(event)
                #expect(response.status == .ok, "\(response.text)")
            }
            #expect(try await client.balance(user).balance == 500)
            #expect(try await db.count("credit_transactions") == 1)
            #expect(try await db.count("webhook_events") == events.count)

            // Signed, but not an event.
            try await client.webhook(#"{"hello":"world"}"#).expectProblem(400, code: "invalid_event")
            try await client.webhook(#"{"id":"evt_x","type":"charge.refunded","data":{"object":{"id":"ch_1"}}}"#)
                .expectProblem(400, code: "invalid_event")
            #expect(try await db.count("webhook_events") == events.count)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func partialThenFullRefundTakesBackOnlyTheDifference(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.runWithDatabase(database, settings: fake.settings) { client, db in
                let user = try await client.register()
                #expect(try await client.purchase(user, token: "pm_card_visa").status == .ok)

                // 1000 of 1999 cents: ⌊500 × 1000 ÷ 1999⌋ = 250 credits.
                let partial = FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 1000, id: "evt_partial")
                #expect(try await client.webhook(partial).status == .ok)
                #expect(try await client.balance(user) == API.Balance(balance: 250, totalEarned: 250, totalSpent: 0))

                #expect(try await client.webhook(partial).status == .ok)
                // Stripe's retry of the partial refund under a new id, and then the full refund: cumulative amounts.
                #expect(try await client.webhook(FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 1000)).status == .ok)
                #expect(try await client.balance(user).balance == 250)
                #expect(try await client.webhook(FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 1999)).status == .ok)
                #expect(try await client.balance(user).balance == 0)
                // A stale partial refund arriving last changes nothing.
                #expect(try await client.webhook(FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 1000)).status == .ok)
                #expect(try await client.balance(user).balance == 0)

                let rows = try await client.get("/v1/credits/history", token: user.accessToken).decode(API.History.self).transactions
                #expect(rows.map(\.credits) == [-250, -250, 500])
                #expect(rows.map(\.transactionType) == ["refund", "refund", "purchase"])
                #expect(rows.first?.description == "Card refund: Basic Pack (250 credits)")
                let refunds = try await db.extraData(type: "refund")
                #expect(refunds.map { $0["wanted"] } == ["250", "250"])
                #expect(refunds.map { $0["shortfall"] } == ["0", "0"])
                #expect(refunds.map { $0["amount_refunded"] } == ["1000", "1999"])
                #expect(try await db.count("payments", where: "refunded_cents = 1999 AND refunded_credits = 500 AND refund_shortfall_credits = 0") == 1)
                try await client.expectCleanAudit()
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aRefundLargerThanTheBalanceStopsAtZeroAndRecordsTheShortfall(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.runWithDatabase(database, settings: fake.settings) { client, db in
                let user = try await client.register()
                #expect(try await client.purchase(user, token: "pm_card_visa").status == .ok)
                let userID = try #require(UUID(uuidString: user.id))
                let ledger = CreditLedger(dialect: db.dialect)
                _ = try await db.transaction { connection in
                    try await ledger.apply(
                        CreditLedger.Movement(userID: userID, type: .usage, credits: -400, description: "AI Glitch: Animate (400 credits)"),
                        on: connection)
                }

                let full = FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 1999)
                #expect(try await client.webhook(full).status == .ok)
                #expect(try await client.balance(user) == API.Balance(balance: 0, totalEarned: 400, totalSpent: 400))
                let refund = try #require(try await db.extraData(type: "refund").first)
                #expect(refund["wanted"] == "500" && refund["shortfall"] == "400" && refund["amount_refunded"] == "1999")
                #expect(refund["gateway_payment_id"] == "pi_fake_1" && refund["payment_id"] != nil)
                #expect(try await db.count("payments", where: "refunded_credits = 500 AND refund_shortfall_credits = 400") == 1)

                // The shortfall counts as taken back: credits granted later are not clawed back by the same refund.
                _ = try await db.transaction { connection in
                    try await ledger.apply(CreditLedger.Movement(userID: userID, type: .bonus, credits: 50, description: "Goodwill"), on: connection)
                }
                #expect(try await client.webhook(FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 1999)).status == .ok)
                #expect(try await client.balance(user).balance == 50)
                #expect(try await db.count("credit_transactions", where: "transaction_type = 'refund'") == 1)
                try await client.expectCleanAudit()
            }
        }
    }

    /// A failed job's refund into a purchase lot whose card refund fell short settles that shortfall first.
    @Test(arguments: TestDatabase.allCases)
    func creditsReturnedToARefundedPurchaseSettleItsShortfallFirst(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { _, client, db in
            let user = try await client.register()
            #expect(try await client.purchase(user, token: "pm_card_visa").status == .ok)
            let userID = try user.uuid
            try await db.spend(300, by: userID)
            let job = try await db.spend(100, by: userID)
            #expect(try await client.webhook(FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 1999)).status == .ok)
            #expect(try await client.balance(user).balance == 0)
            #expect(try await db.count("payments", where: "refunded_credits = 500 AND refund_shortfall_credits = 400") == 1)

            try await db.apply(
                .init(userID: userID, type: .refund, credits: 100, description: "Refund: AI Glitch", extraData: ["job_id": "job-1"], undoing: job.id))
            #expect(try await client.balance(user).balance == 0)
            let rows = try await client.get("/v1/credits/history", token: user.accessToken).decode(API.History.self).transactions
            #expect(rows.prefix(2).map(\.credits) == [-100, 100])
            #expect(rows.first?.description == "Card refund: Basic Pack (100 credits)")
            #expect(try await db.extraData(type: "refund").compactMap { $0["settled_shortfall"] } == ["100"])
            #expect(try await db.count("payments", where: "refunded_credits = 500 AND refund_shortfall_credits = 300") == 1)
            // Credits from anywhere else stay the user's.
            try await db.bonus(50, to: userID)
            #expect(try await client.balance(user).balance == 50)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aRefundAfterEverythingWasSpentWritesNoRowButKeepsTheShortfall(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.runWithDatabase(database, settings: fake.settings) { client, db in
                let user = try await client.register()
                #expect(try await client.purchase(user, package: "starter_100", token: "pm_card_visa").status == .ok)
                let userID = try #require(UUID(uuidString: user.id))
                _ = try await db.transaction { connection in
                    try await CreditLedger(dialect: db.dialect).apply(
                        CreditLedger.Movement(userID: userID, type: .usage, credits: -100, description: "AI Glitch: Animate (100 credits)"),
                        on: connection)
                }
                #expect(try await client.webhook(FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 499, amountRefunded: 499)).status == .ok)
                #expect(try await client.balance(user).balance == 0)
                #expect(try await db.count("credit_transactions", where: "transaction_type = 'refund'") == 0)
                #expect(try await db.count("payments", where: "refunded_credits = 100 AND refund_shortfall_credits = 100") == 1)
                try await client.expectCleanAudit()
            }
        }
    }
}
