import Configuration
import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

@Suite("Payments: purchases through the Stripe gateway")
struct StripeGatewayTests {
    @Test(arguments: TestDatabase.allCases)
    func successfulPurchaseCreditsOnceAndRecordsTheIntent(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.runWithDatabase(database, settings: fake.settings) { client, db in
                let user = try await client.register()
                let response = try await client.purchase(user, token: "pm_card_visa", key: "order-1")
                #expect(response.status == .ok, "\(response.text)")
                let body = try response.decode(API.Purchase.self)
                #expect(body.creditsAdded == 500 && body.newBalance == 500)
                #expect(body.amountPaid == 19.99)

                let intents = await fake.state.intents
                #expect(intents.count == 1)
                let form = try #require(intents.first).form
                #expect(form["amount"] == "1999" && form["currency"] == "usd" && form["confirm"] == "true")
                #expect(form["payment_method"] == "pm_card_visa")
                #expect(form["metadata[user_id]"] == user.id && form["metadata[package_id]"] == "basic_500")
                let paymentID = try await db.sql.raw("SELECT id FROM payments").first()?.decode(column: "id", as: UUID.self)
                #expect(form["metadata[payment_id]"] == paymentID?.lowercased)
                // Derived from the client's key, scoped to the user and the request.
                let purchase = Purchase(
                    userID: try #require(UUID(uuidString: user.id)), package: try #require(CreditCatalog.seed.package(id: "basic_500")),
                    paymentMethod: "card", paymentToken: "pm_card_visa")
                #expect(intents.first?.idempotencyKey == CreditPurchases.gatewayKey(for: purchase, clientKey: "order-1"))

                let extra = try await db.extraData(type: "purchase")
                #expect(extra == [["package_id": "basic_500", "payment_method": "card", "gateway": "stripe", "gateway_payment_id": "pi_fake_1"]])
                #expect(try await db.paymentStatus("pi_fake_1") == "succeeded")
                #expect(try await db.count("credit_transactions", where: "CAST(extra_data AS TEXT) LIKE '%pm_card_visa%'") == 0)
                try await client.expectCleanAudit()
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func declineIs402WithStripesMessageAndCreditsNothing(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.runWithDatabase(database, settings: fake.settings) { client, db in
                let user = try await client.register()
                let problem = try await client.purchase(user, token: "pm_card_chargeDeclined").expectProblem(402, code: "payment_failed")
                #expect(problem.detail == "Your card was declined.")
                #expect(try await client.balance(user).balance == 0)
                #expect(try await db.count("credit_transactions") == 0)
                // Recorded before the charge, failed by the decline.
                #expect(try await db.count("payments") == 1)
                #expect(try await db.count("payments", where: "status = 'failed' AND gateway_payment_id = 'pi_fake_1'") == 1)
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func tokensStripeCannotTakeAre422BeforeAnyCharge(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.run(database, settings: fake.settings) { client in
                let user = try await client.register()
                // Legacy card tokens are not PaymentMethods; nothing is sent to Stripe.
                try await client.purchase(user, token: "tok_visa").expectProblem(422, code: "validation_failed")
                try await client.purchase(user, token: "pm_").expectProblem(422, code: "validation_failed")
                #expect(await fake.state.requests == 0)
                // A well-formed id Stripe does not know.
                let problem = try await client.purchase(user, token: "pm_unknown_1").expectProblem(422, code: "validation_failed")
                #expect(problem.errors?.first?.field == "payment_token")
                #expect(try await client.balance(user).balance == 0)
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func sameIdempotencyKeyChargesTheFakeOnce(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.run(database, settings: fake.settings) { client in
                let user = try await client.register()
                let first = try await client.purchase(user, token: "pm_card_visa", key: "retry-me")
                let second = try await client.purchase(user, token: "pm_card_visa", key: "retry-me")
                #expect(first.status == .ok && second.body == first.body)
                #expect(await fake.state.intents.count == 1)
                #expect(try await client.balance(user).balance == 500)
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aServerErrorIsRetriedWithTheSameKeyAndChargesOnce(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.runWithDatabase(database, settings: fake.settings) { client, db in
                let user = try await client.register()
                await fake.state.failNext(1)
                let response = try await client.purchase(user, token: "pm_card_visa", key: "flaky")
                #expect(response.status == .ok, "\(response.text)")
                #expect(await fake.state.requests == 2)
                #expect(await fake.state.intents.count == 1)
                #expect(try await client.balance(user).balance == 500)
                #expect(try await db.count("credit_transactions") == 1)
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func stripeDownIs502ThenTheSameKeySucceedsOnce(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.runWithDatabase(database, settings: fake.settings) { client, db in
                let user = try await client.register()
                await fake.state.failNext(3)
                try await client.purchase(user, token: "pm_card_visa", key: "outage").expectProblem(502, code: "payment_gateway_unavailable")
                #expect(await fake.state.requests == 3)
                #expect(try await db.count("credit_transactions") == 0)
                // Left pending: whether Stripe charged is unknown until someone asks again.
                #expect(try await db.count("payments", where: "status = 'pending'") == 1)

                // The key was released: the client's retry is executed on the same payment, and charges once.
                #expect(try await client.purchase(user, token: "pm_card_visa", key: "outage").status == .ok)
                #expect(await fake.state.intents.count == 1)
                #expect(try await client.balance(user).balance == 500)
                #expect(try await db.count("payments") == 1)
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func unreachableStripeIs502AndCreditsNothing(_ database: TestDatabase) async throws {
        // Port 1 on loopback: nothing listens, so every attempt is refused at once.
        let settings = [
            "payment.gateway": "stripe", "stripe.secret.key": FakeStripe.secretKey, "stripe.webhook.secret": FakeStripe.webhookSecret,
            "stripe.api.base": "http://127.0.0.1:1",
        ]
        try await TestApp.run(database, settings: settings) { client in
            let user = try await client.register()
            try await client.purchase(user, token: "pm_card_visa").expectProblem(502, code: "payment_gateway_unavailable")
            #expect(try await client.balance(user).balance == 0)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aRejectedKeyIs502WithoutLeakingIt(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            let wrongKey = "sk_test_wrong_key_0123456789"
            try await TestApp.run(database, settings: fake.settings.merging(["stripe.secret.key": wrongKey]) { $1 }) { client in
                let user = try await client.register()
                let response = try await client.purchase(user, token: "pm_card_visa")
                try response.expectProblem(502, code: "payment_gateway_error")
                #expect(!response.text.contains("sk_test"))
                #expect(try await client.balance(user).balance == 0)
            }
        }
    }
}

@Suite("Payments: Stripe configuration")
struct StripeConfigurationTests {
    @Test func stripeWithoutSecretsStopsStartUpWithAClearMessage() throws {
        func message(_ settings: [String: String]) -> String? {
            do {
                _ = try TestApp.configuration(databaseURL: "sqlite://unused.sqlite", settings: settings)
                return nil
            } catch {
                return (error as? ConfigurationError)?.description
            }
        }
        #expect(message(["payment.gateway": "stripe"]) == "PAYMENT_GATEWAY=stripe requires STRIPE_SECRET_KEY")
        #expect(
            message(["payment.gateway": "stripe", "stripe.secret.key": FakeStripe.secretKey])
                == "PAYMENT_GATEWAY=stripe requires STRIPE_WEBHOOK_SECRET")
        #expect(message(["payment.gateway": "mock", "stripe.webhook.secret": FakeStripe.webhookSecret]) == nil)
    }

    @Test func aStripeAPIBaseThatIsNoURLStopsStartUp() throws {
        let configuration = try TestApp.configuration(
            databaseURL: "sqlite://unused.sqlite",
            settings: [
                "payment.gateway": "stripe", "stripe.secret.key": FakeStripe.secretKey,
                "stripe.webhook.secret": FakeStripe.webhookSecret, "stripe.api.base": "api.stripe.com",
            ])
        #expect(throws: ConfigurationError.self) { try makePaymentGateway(configuration, logger: TestApp.logger) }
    }
}
