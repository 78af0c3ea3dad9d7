import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

/// A reconciler on the test's own handle of the app's database, as another instance of the app would run it.
private func makeReconciler(_ db: Reelbase.Database, gateway: any PaymentGateway) -> PaymentReconciler {
    PaymentReconciler(payments: db.payments, gateway: gateway, after: .seconds(60), logger: TestApp.logger)
}

/// Past `RECONCILE_AFTER_SECONDS` (60 here) for a payment made now.
private func due(_ seconds: TimeInterval = 120) -> Date { Date().addingTimeInterval(seconds) }

extension FakeStripe {
    /// Runs `body` with a reconciler whose Stripe gateway is pointed at this fake.
    func withReconciler<R: Sendable>(_ db: Reelbase.Database, _ body: (PaymentReconciler) async throws -> R) async throws -> R {
        let client = StripeGateway.makeHTTPClient()
        let gateway = StripeGateway(client: client, secretKey: Self.secretKey, apiBase: "http://127.0.0.1:\(self.port)", logger: TestApp.logger)
        let result: Result<R, any Error>
        do { result = .success(try await body(makeReconciler(db, gateway: gateway))) } catch { result = .failure(error) }
        try await client.shutdown()
        return try result.get()
    }
}

extension Reelbase.Database {
    /// Runs `body` while every `UPDATE` of `payments` fails, as a commit that fails after the charge: settling a
    /// payment always updates its row, recording it `pending` never does.
    func whileSettlingFails(_ body: () async throws -> Void) async throws {
        switch self.dialect {
        case .postgres:
            try await self.sql.raw(
                "CREATE OR REPLACE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
            ).run()
            try await self.sql.raw("CREATE TRIGGER test_refuse BEFORE UPDATE ON payments FOR EACH ROW EXECUTE FUNCTION test_refuse()").run()
        case .sqlite:
            try await self.sql.raw("CREATE TRIGGER test_refuse BEFORE UPDATE ON payments BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
                .run()
        }
        var failure: (any Error)?
        do { try await body() } catch { failure = error }
        try await self.sql.raw(self.dialect == .postgres ? "DROP TRIGGER test_refuse ON payments" : "DROP TRIGGER test_refuse").run()
        if let failure { throw failure }
    }
}

@Suite("Payments: every payment settles, credited once")
struct PaymentSettlementTests {
    @Test(arguments: TestDatabase.allCases)
    func aChargeWhoseCommitFailsIsCreditedOnceByTheReconciler(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            let user = try await client.register()
            try await db.whileSettlingFails {
                try await client.purchase(user, token: "pm_card_visa", key: "order-1").expectProblem(500, code: "internal_error")
            }

            // Charged, recorded before the charge, never settled: the intent id was to be written by the commit.
            #expect(await fake.state.intents.count == 1)
            let paymentID = try #require(try await db.sql.raw("SELECT id FROM payments").first()?.decode(column: "id", as: UUID.self))
            #expect(await fake.state.intents.first?.form["metadata[payment_id]"] == paymentID.lowercased)
            #expect(try await db.count("payments", where: "status = 'pending' AND gateway_payment_id IS NULL") == 1)
            #expect(try await client.balance(user).balance == 0)

            try await fake.withReconciler(db) { reconciler async throws in
                // Not yet due: pending for less than RECONCILE_AFTER_SECONDS.
                #expect(try await reconciler.pass() == 0)
                #expect(try await reconciler.pass(now: due()) == 1)
                #expect(try await reconciler.pass(now: due(3600)) == 0)
            }
            // The identical create was sent again with the same key, and Stripe answered the first charge.
            #expect(await fake.state.requests == 2)
            #expect(await fake.state.intents.count == 1)
            #expect(try await client.balance(user).balance == 500)
            #expect(try await db.paymentStatus("pi_fake_1") == "succeeded")
            #expect(try await db.count("payments", where: "payment_token IS NULL") == 1)

            // The client's retry finds its payment credited: the same ledger row, no call to Stripe.
            let retry = try await client.purchase(user, token: "pm_card_visa", key: "order-1")
            #expect(retry.status == .ok, "\(retry.text)")
            let rows = try await client.get("/v1/credits/history", token: user.accessToken).decode(API.History.self).transactions
            #expect(rows.count == 1)
            #expect(try retry.decode(API.Purchase.self).transactionId == rows.first?.id)
            #expect(await fake.state.requests == 2)
            // A late webhook changes nothing.
            #expect(try await client.webhook(FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1")).status == .ok)
            #expect(try await db.count("credit_transactions") == 1)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aChargeWhoseAnswerIsLostIsCreditedOnceByTheReconciler(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            let user = try await client.register()
            // Stripe charges, and every answer (the gateway's own retries included) is lost.
            await fake.state.loseNextAnswers(3)
            try await client.purchase(user, token: "pm_card_visa").expectProblem(502, code: "payment_gateway_unavailable")
            #expect(await fake.state.intents.count == 1)
            #expect(try await db.count("payments", where: "status = 'pending'") == 1)

            try await fake.withReconciler(db) { reconciler async throws in
                #expect(try await reconciler.pass(now: due()) == 1)
            }
            #expect(await fake.state.intents.count == 1)
            #expect(try await client.balance(user).balance == 500)
            #expect(try await db.paymentStatus("pi_fake_1") == "succeeded")
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func anIntentThatRequiresActionStaysPendingThenIsReadBackByItsID(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            let user = try await StripeWebhookTests.pendingPurchase(client)
            try await fake.withReconciler(db) { reconciler async throws in
                let start = due()
                #expect(try await reconciler.pass(now: start) == 0)
                #expect(await fake.state.lookups == 1)
                #expect(try await db.paymentStatus("pi_fake_1") == "pending")
                // Asked again only after its backoff (at least RECONCILE_AFTER_SECONDS).
                #expect(try await reconciler.pass(now: start.addingTimeInterval(30)) == 0)
                #expect(await fake.state.lookups == 1)

                // The customer completes 3-D Secure and the webhook is lost: the lookup finds it succeeded.
                await fake.state.complete("pi_fake_1")
                #expect(try await reconciler.pass(now: start.addingTimeInterval(3600)) == 1)
                #expect(await fake.state.lookups == 2)
            }
            #expect(await fake.state.intents.count == 1)
            #expect(try await db.paymentStatus("pi_fake_1") == "succeeded")
            #expect(try await client.balance(user).balance == 500)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func anIntentStillRequiringActionFailsAfter24Hours(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            let user = try await StripeWebhookTests.pendingPurchase(client)
            try await fake.withReconciler(db) { reconciler async throws in
                #expect(try await reconciler.pass(now: due(3600)) == 0)
                #expect(try await db.paymentStatus("pi_fake_1") == "pending")
                #expect(try await reconciler.pass(now: due(86_400 + 60)) == 1)
            }
            #expect(try await db.paymentStatus("pi_fake_1") == "failed")
            #expect(try await client.balance(user).balance == 0)
            // Should the customer complete it after all, Stripe's event still credits it, once.
            #expect(try await client.webhook(FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1")).status == .ok)
            #expect(try await client.balance(user).balance == 500)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func reconcilersAndWebhooksRacingCreditOnce(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            let user = try await StripeWebhookTests.pendingPurchase(client)
            await fake.state.complete("pi_fake_1")
            let replayed = FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1", id: "evt_same")
            try await fake.withReconciler(db) { reconciler async throws in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<8 {
                        let event = index.isMultiple(of: 2) ? replayed : FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1")
                        group.addTask {
                            let response = try await client.webhook(event)
                            #expect(response.status == .ok, "\(response.text)")
                        }
                    }
                    for _ in 0..<4 {
                        group.addTask { _ = try await reconciler.pass(now: due()) }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(try await client.balance(user).balance == 500)
            #expect(try await db.count("credit_transactions") == 1)
            #expect(try await db.count("payments", where: "status = 'succeeded' AND credited_transaction_id IS NOT NULL") == 1)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aRefundBeforeTheSuccessIsAppliedWhenThePaymentIsCredited(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            let user = try await StripeWebhookTests.pendingPurchase(client)
            let refund = FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 1000)
            #expect(try await client.webhook(refund).status == .ok)
            #expect(try await client.balance(user).balance == 0)
            #expect(try await db.count("webhook_events", where: "payload IS NOT NULL AND payment_id IS NOT NULL") == 1)

            #expect(try await client.webhook(FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1")).status == .ok)
            // ⌊500 × 1000 ÷ 1999⌋ = 250 taken back, in the transaction that credited the 500.
            #expect(try await client.balance(user) == API.Balance(balance: 250, totalEarned: 250, totalSpent: 0))
            let rows = try await client.get("/v1/credits/history", token: user.accessToken).decode(API.History.self).transactions
            #expect(rows.map(\.credits) == [-250, 500])
            #expect(try await db.count("webhook_events", where: "payload IS NOT NULL") == 0)
            // Applied once: the refund again, and a second success event, change nothing.
            #expect(try await client.webhook(refund).status == .ok)
            #expect(try await client.webhook(FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1")).status == .ok)
            #expect(try await client.balance(user).balance == 250)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func refundsThatNameAPaymentNotYetSettledWaitForTheReconciler(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            let first = try await client.register()
            let second = try await client.register()
            try await db.whileSettlingFails {
                try await client.purchase(first, token: "pm_card_visa").expectProblem(500, code: "internal_error")
                try await client.purchase(second, token: "pm_card_visa").expectProblem(500, code: "internal_error")
            }
            let firstPayment = try #require(await fake.state.intents.first?.form["metadata[payment_id]"])

            // Neither payment knows its intent yet. One refund names its payment in metadata, the other only its
            // intent: that one is kept as about no known payment, under the intent id.
            let byMetadata = FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 1999, paymentID: firstPayment)
            #expect(try await client.webhook(byMetadata).status == .ok)
            #expect(try await client.webhook(FakeStripe.refundEvent(intentID: "pi_fake_2", amount: 1999, amountRefunded: 1000)).status == .ok)
            #expect(try await db.count("webhook_events", where: "payload IS NOT NULL AND payment_id IS NOT NULL") == 1)
            #expect(try await db.count("webhook_events", where: "payload IS NOT NULL AND payment_id IS NULL AND intent_id = 'pi_fake_2'") == 1)

            try await fake.withReconciler(db) { reconciler async throws in
                #expect(try await reconciler.pass(now: due()) == 2)
            }
            #expect(try await client.balance(first) == API.Balance(balance: 0, totalEarned: 0, totalSpent: 0))
            #expect(try await client.balance(second) == API.Balance(balance: 250, totalEarned: 250, totalSpent: 0))
            #expect(try await db.count("webhook_events", where: "payload IS NOT NULL OR payment_id IS NULL") == 0)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func refundCreditsComeFromTheStoredAmountWithoutOverflow(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            let user = try await client.register()
            #expect(try await client.purchase(user, token: "pm_card_visa").status == .ok)
            // The event's `amount` is not believed: 1000 of the 1999 cents charged is 250 credits, whatever it says.
            #expect(try await client.webhook(FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1000, amountRefunded: 1000)).status == .ok)
            #expect(try await client.balance(user).balance == 250)
            // An absurd cumulative amount counts as the whole charge: the rest, and never more.
            #expect(try await client.webhook(FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1, amountRefunded: Int.max)).status == .ok)
            #expect(try await client.balance(user).balance == 0)
            #expect(try await db.count("payments", where: "refunded_cents = 1999 AND refunded_credits = 500 AND refund_shortfall_credits = 0") == 1)
            #expect(try await db.extraData(type: "refund").map { $0["amount_refunded"] } == ["1000", "1999"])
            try await client.expectCleanAudit()
        }
        // Full width: a product of 64-bit values that overflows still gives the exact share.
        #expect(PaymentStore.share(of: Int.max, part: Int.max - 1, whole: Int.max) == Int.max - 1)
        #expect(PaymentStore.share(of: 500, part: 1000, whole: 1999) == 250)
    }

    @Test(arguments: TestDatabase.allCases)
    func anyClientKeyGivesStripeAKeyWithin255Characters(_ database: TestDatabase) async throws {
        try await FakeStripe.run { fake in
            try await TestApp.run(database, settings: fake.settings) { client in
                let user = try await client.register()
                let longKey = String(repeating: "k", count: 254)
                #expect(try await client.purchase(user, token: "pm_card_visa", key: longKey + "a").status == .ok)
                #expect(try await client.purchase(user, token: "pm_card_visa", key: longKey + "a").status == .ok)
                #expect(try await client.purchase(user, token: "pm_card_visa", key: longKey + "b").status == .ok)
                let keys = await fake.state.intents.map(\.idempotencyKey)
                #expect(keys.count == 2)
                for key in keys {
                    #expect(key?.count == 82)
                    #expect(key?.hasPrefix("reelbase_purchase_") == true)
                    #expect(key?.contains("kkkk") == false)
                }
                #expect(Set(keys).count == 2)
                #expect(try await client.balance(user).balance == 1000)
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func stuckMockPaymentsSettleByTheirTokensRule(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            try await db.whileSettlingFails {
                try await client.purchase(user, token: "tok_visa", key: "a").expectProblem(500, code: "internal_error")
                try await client.purchase(user, token: "tok_fail_card", key: "b").expectProblem(500, code: "internal_error")
            }
            #expect(try await db.count("payments", where: "status = 'pending'") == 2)

            #expect(try await makeReconciler(db, gateway: MockPaymentGateway()).pass(now: due()) == 2)
            #expect(try await db.count("payments", where: "status = 'succeeded' AND payment_token IS NULL") == 1)
            #expect(try await db.count("payments", where: "status = 'failed' AND payment_token IS NULL") == 1)
            #expect(try await client.balance(user).balance == 500)
            // The retries answer what the reconciler settled.
            #expect(try await client.purchase(user, token: "tok_visa", key: "a").status == .ok)
            try await client.purchase(user, token: "tok_fail_card", key: "b").expectProblem(402, code: "payment_failed")
            #expect(try await client.balance(user).balance == 500)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func theServeReconcilerSettlesOnItsOwn(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: ["reconcile.after.seconds": "1"]) { client, db in
            let user = try await client.register()
            try await db.whileSettlingFails {
                try await client.purchase(user, token: "tok_visa").expectProblem(500, code: "internal_error")
            }
            // Due after 1 s, looked for every 0.5 s: settled well within 10 s, also on a loaded machine.
            let deadline = Date().addingTimeInterval(10)
            while try await client.balance(user).balance == 0, Date() < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await client.balance(user).balance == 500)
            #expect(try await db.count("payments", where: "status = 'succeeded'") == 1)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aRefundKeptWhileItsPaymentWasBeingCreditedIsAppliedByTheReconciler(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            let user = try await client.register()
            #expect(try await client.purchase(user, token: "pm_card_visa").status == .ok)
            // What the race leaves on PostgreSQL: a refund naming only its intent, kept as about no known payment
            // just after the transaction crediting that intent's payment looked for waiting events.
            let refund = FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 1999, id: "evt_stranded")
            try await db.sql.raw(
                """
                INSERT INTO webhook_events (id, type, intent_id, payload, received_at)
                VALUES ('evt_stranded', 'charge.refunded', 'pi_fake_1', \(bind: refund), \(bind: Date()))
                """
            ).run()

            try await fake.withReconciler(db) { reconciler async throws in
                #expect(try await reconciler.pass() == 0)
                #expect(try await client.balance(user) == API.Balance(balance: 0, totalEarned: 0, totalSpent: 0))
                #expect(try await db.count("webhook_events", where: "payload IS NULL AND payment_id IS NOT NULL") == 1)
                // Applied once: the next pass, and Stripe's redelivery, find nothing left to take back.
                #expect(try await reconciler.pass() == 0)
            }
            #expect(try await client.webhook(refund).status == .ok)
            let rows = try await client.get("/v1/credits/history", token: user.accessToken).decode(API.History.self).transactions
            #expect(rows.map(\.credits) == [-500, 500])
            #expect(await fake.state.lookups == 0)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aRetryOfAPurchaseUnsettledForADayIsNotSentAgain(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            let user = try await client.register()
            try await db.whileSettlingFails {
                try await client.purchase(user, token: "pm_card_threeDSecure", key: "late").expectProblem(500, code: "internal_error")
            }
            // A day later (the reconciler did not run), Stripe no longer knows the key.
            try await db.sql.raw("UPDATE payments SET created_at = \(bind: Date().addingTimeInterval(-86_400 - 60))").run()

            let problem = try await client.purchase(user, token: "pm_card_threeDSecure", key: "late").expectProblem(402, code: "payment_failed")
            #expect(problem.detail == CreditPurchases.expiredMessage)
            #expect(await fake.state.requests == 1)
            #expect(try await db.count("payments", where: "status = 'failed'") == 1)
            // Should the customer have completed it after all, Stripe's event (naming the payment in its metadata:
            // the intent's id was never recorded) still credits it, once.
            let paymentID = try #require(await fake.state.intents.first?.form["metadata[payment_id]"])
            let succeeded = FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1", paymentID: paymentID)
            #expect(try await client.webhook(succeeded).status == .ok)
            #expect(try await client.webhook(succeeded).status == .ok)
            #expect(try await client.balance(user).balance == 500)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aResentChargeRefusedForItsTokenFailsAtOnce(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            let user = try await client.register()
            // Stripe refuses the PaymentMethod, and marking the payment failed does not commit.
            try await db.whileSettlingFails {
                try await client.purchase(user, token: "pm_unknown", key: "bad").expectProblem(422, code: "validation_failed")
            }
            #expect(try await db.count("payments", where: "status = 'pending'") == 1)

            try await fake.withReconciler(db) { reconciler async throws in
                // The identical create gets the same refusal: nothing was charged, so it fails now, not after 24 h.
                #expect(try await reconciler.pass(now: due()) == 1)
            }
            #expect(await fake.state.requests == 2)
            #expect(try await db.count("payments", where: "status = 'failed' AND payment_token IS NULL") == 1)
            #expect(try await db.count("credit_transactions") == 0)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func theDatabaseRefusesASecondPurchaseRowForOnePayment(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            let user = try await client.register()
            #expect(try await client.purchase(user, token: "pm_card_visa").status == .ok)
            let second = CreditLedger.Movement(
                userID: try #require(UUID(uuidString: user.id)), type: .purchase, credits: 500, description: "Purchased Basic Pack (500 credits)",
                extraData: ["package_id": "basic_500", "payment_method": "card", "gateway": "stripe", "gateway_payment_id": "pi_fake_1"])
            let ledger = CreditLedger(dialect: db.dialect)
            let error = await #expect(throws: (any Error).self) {
                try await db.transaction { connection in try await ledger.apply(second, on: connection) }
            }
            #expect(error.map(DatabaseFailure.init) == .uniqueViolation, "\(String(describing: error))")
            // Another gateway's payment of the same id, or a row of another type, is no second credit.
            var otherGateway = second
            otherGateway.extraData?["gateway"] = "mock"
            let refund = CreditLedger.Movement(
                userID: second.userID, type: .refund, credits: -1, description: "Card refund", extraData: second.extraData)
            for movement in [otherGateway, refund] {
                _ = try await db.transaction { connection in try await ledger.apply(movement, on: connection) }
            }
            #expect(try await client.balance(user).balance == 999)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func eventsAboutUnknownPaymentsAreKeptSevenDays(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { fake, client, db in
            _ = try await StripeWebhookTests.pendingPurchase(client)
            #expect(try await client.webhook(FakeStripe.intentEvent("payment_intent.payment_failed", intentID: "pi_fake_1")).status == .ok)
            #expect(try await client.webhook(FakeStripe.refundEvent(intentID: "pi_nobody", amount: 1999, amountRefunded: 1999)).status == .ok)
            #expect(try await client.webhook(FakeStripe.event(type: "customer.created", object: ["id": "cus_1"])).status == .ok)
            #expect(try await db.count("webhook_events", where: "payment_id IS NULL") == 2)
            let housekeeping = HousekeepingTests.housekeeping(db)
            try await housekeeping.prune(now: Date().addingTimeInterval(7 * 86_400 - 60))
            #expect(try await db.count("webhook_events") == 3)
            try await housekeeping.prune(now: Date().addingTimeInterval(7 * 86_400 + 60))
            // The event about a known payment stays: its id keeps a replay from applying it again.
            #expect(try await db.count("webhook_events") == 1)
            #expect(try await db.count("webhook_events", where: "payment_id IS NOT NULL") == 1)
        }
    }
}

@Suite("Payments: reconciler settings")
struct ReconcilerSettingsTests {
    @Test func reconcileAfterSecondsDefaultsTo60AndMustBePositive() throws {
        #expect(try TestApp.configuration(databaseURL: "sqlite://unused.sqlite", settings: [:]).reconcileAfterSeconds == 60)
        #expect(try TestApp.configuration(databaseURL: "sqlite://unused.sqlite", settings: ["reconcile.after.seconds": "5"]).reconcileAfterSeconds == 5)
        let error = #expect(throws: ConfigurationError.self) {
            try TestApp.configuration(databaseURL: "sqlite://unused.sqlite", settings: ["reconcile.after.seconds": "0"])
        }
        #expect(error?.description == "RECONCILE_AFTER_SECONDS must be an integer in 1...86400, got '0'")
    }
}

@Suite("Payments: Stripe-Signature bounds")
struct StripeSignatureBoundsTests {
    static let event = FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_nobody", id: "evt_bounds")

    @Test func onlyTheFirstEightSignaturesAreTried() throws {
        let signature = StripeSignature(secret: FakeStripe.webhookSecret)
        let payload = Data(Self.event.utf8)
        let valid = FakeStripe.signature(for: Self.event)
        let parts = valid.split(separator: ",")
        let (timestamp, validV1) = (parts[0], parts[1])
        let wrong = "v1=" + String(repeating: "ab", count: 32)
        func header(wrongBefore count: Int) -> String {
            ([String(timestamp)] + Array(repeating: wrong, count: count) + [String(validV1)]).joined(separator: ",")
        }
        try signature.verify(header: header(wrongBefore: 7), payload: payload, now: Date())
        #expect(throws: StripeSignatureError.self) { try signature.verify(header: header(wrongBefore: 8), payload: payload, now: Date()) }
        // Malformed values count among the eight.
        let malformed = ([String(timestamp)] + Array(repeating: "v1=zz", count: 8) + [String(validV1)]).joined(separator: ",")
        #expect(throws: StripeSignatureError.self) { try signature.verify(header: malformed, payload: payload, now: Date()) }
    }

    @Test(arguments: TestDatabase.allCases)
    func aHeaderOver4KiBIs400(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: ["stripe.webhook.secret": FakeStripe.webhookSecret]) { client, db in
            let valid = FakeStripe.signature(for: Self.event)
            // Padding in an ignored scheme, to exactly 4096 bytes and to one more.
            let padding = ",v0="
            let exact = valid + padding + String(repeating: "0", count: 4096 - valid.utf8.count - padding.utf8.count)
            let problem = try await client.webhook(Self.event, stripeSignature: exact + "0").expectProblem(400, code: "invalid_signature")
            #expect(problem.detail == "The Stripe-Signature header is longer than 4096 bytes.")
            #expect(try await db.count("webhook_events") == 0)
            #expect(try await client.webhook(Self.event, stripeSignature: exact).status == .ok)

            // Nine values in a real request: the ninth, the only valid one, is not looked at.
            let parts = valid.split(separator: ",")
            let nine = ([String(parts[0])] + Array(repeating: "v1=" + String(repeating: "ab", count: 32), count: 8) + [String(parts[1])])
                .joined(separator: ",")
            try await client.webhook(Self.event, stripeSignature: nine).expectProblem(400, code: "invalid_signature")
        }
    }
}
