import Foundation
import Testing

@testable import Reelbase

@Suite("Referrals")
struct ReferralTests {
    private struct Me: Decodable {
        var referralCode: String
    }

    private func referralCode(of user: TestClient.User, _ client: TestClient) async throws -> String {
        try await client.get("/v1/users/me", token: user.accessToken).decode(Me.self).referralCode
    }

    /// Registers a user invited by `code`, as typed.
    private func register(invitedBy code: String, _ client: TestClient) async throws -> TestClient.User {
        let username = "r\(UUID().uuidString.prefix(8).lowercased())"
        let response = try await client.post(
            "/v1/auth/register",
            json: ["email": "\(username)@example.com", "password": "password-\(username)", "username": username, "referral_code": code])
        guard response.status == .created else { throw TestSetupError("register failed: \(response.status) \(response.text)") }
        let body = try response.decode(API.Auth.self)
        return TestClient.User(
            id: body.user.id, email: "\(username)@example.com", username: username, password: "password-\(username)",
            accessToken: body.accessToken, refreshToken: body.refreshToken)
    }

    private func descriptions(_ user: TestClient.User, _ client: TestClient) async throws -> [String] {
        try await client.get("/v1/credits/history", token: user.accessToken).decode(API.History.self).transactions.map(\.description)
    }

    @Test(arguments: TestDatabase.allCases)
    func codesAreOwnAndUnknownCodesAreRefused(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, _ in
            let bob = try await client.register()
            let code = try await self.referralCode(of: bob, client)
            #expect(code.wholeMatch(of: /[A-Z2-9]{8}/) != nil)
            let profile = try await client.get("/v1/users/\(bob.id)", token: bob.accessToken)
            #expect(!profile.text.contains("referral_code"))
            let response = try await client.post(
                "/v1/auth/register", json: ["email": "x@example.com", "password": "password-x1", "username": "xuser", "referral_code": "ZZZZZZZZ"])
            _ = try response.expectProblem(422, code: "validation_failed")
            #expect(response.text.contains("\"referral_code\""))
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func firstPurchasePaysBothOnceAndNotifiesTheReferrer(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, _ in
            let bob = try await client.register(username: "bob\(UUID().uuidString.prefix(6).lowercased())")
            let code = try await self.referralCode(of: bob, client)
            let ann = try await self.register(invitedBy: "  \(code.lowercased()) ", client)
            #expect(try await client.purchase(ann, package: "starter_100").status == .ok)
            #expect(try await client.balance(ann).balance == 150)
            #expect(try await client.balance(bob).balance == 100)
            #expect(try await self.descriptions(bob, client) == ["Referral reward: \(ann.username) joined"])
            #expect(try await self.descriptions(ann, client).contains("Welcome bonus: invited by \(bob.username)"))
            #expect(try await client.purchase(ann, package: "starter_100").status == .ok)
            #expect(try await client.balance(ann).balance == 250)
            #expect(try await client.balance(bob).balance == 100)
            let notifications = try await client.get("/v1/notifications", token: bob.accessToken)
            #expect(notifications.text.contains("\"referral_rewarded\""))
            #expect(notifications.text.contains(ann.id))
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func concurrentFirstPurchasesPayOneReward(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, _ in
            let bob = try await client.register()
            let ann = try await self.register(invitedBy: try await self.referralCode(of: bob, client), client)
            try await concurrently(Array(0..<20), width: 8) { _ in
                _ = try await client.purchase(ann, package: "starter_100")
            }
            #expect(try await client.balance(bob).balance == 100)
            #expect(try await client.balance(ann).balance == 20 * 100 + 50)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func capSuspensionAndFailedPaymentsPayOnlyWhatIsDue(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: ["referral.monthly.limit": "1"]) { client, db in
            let bob = try await client.register()
            let code = try await self.referralCode(of: bob, client)
            let ann = try await self.register(invitedBy: code, client)
            let cid = try await self.register(invitedBy: code, client)
            #expect(try await client.purchase(ann, token: "tok_fail_card").status == .paymentRequired)
            #expect(try await client.balance(ann).balance == 0)
            #expect(try await client.purchase(ann, package: "starter_100").status == .ok)
            #expect(try await client.purchase(cid, package: "starter_100").status == .ok)
            #expect(try await client.balance(bob).balance == 100)
            #expect(try await client.balance(cid).balance == 150)

            let eve = try await client.register()
            let dan = try await self.register(invitedBy: try await self.referralCode(of: eve, client), client)
            try await db.setSuspended(eve.id, true)
            #expect(try await client.purchase(dan, package: "starter_100").status == .ok)
            #expect(try await client.balance(dan).balance == 150)
            try await db.setSuspended(eve.id, false)
            #expect(try await client.balance(eve).balance == 0)
            try await client.expectCleanAudit()
        }
    }

    /// Bonus rows as the history lists them, newest first.
    private func bonusRows(_ user: TestClient.User, _ client: TestClient) async throws -> [API.LedgerRow] {
        try await client.get("/v1/credits/history?transaction_type=bonus", token: user.accessToken).decode(API.History.self).transactions
    }

    /// A partial refund of the qualifying payment takes both bonuses back once, each out of its own lot only (never
    /// from credits the user got otherwise), and the referred user never qualifies again.
    @Test(arguments: TestDatabase.allCases)
    func aRefundOfTheQualifyingPaymentReversesBothBonusesFromTheirOwnLots(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { _, client, db in
            let bob = try await client.register(), admin = try await client.registerAdmin()
            let ann = try await self.register(invitedBy: try await self.referralCode(of: bob, client), client)
            #expect(try await client.purchase(ann, token: "pm_card_visa").status == .ok)
            #expect(try await client.balance(ann).balance == 550)
            // Bob spends 30 of his reward (the older of his two never-expiring lots), then gets 200 more.
            let bobID = try #require(UUID(uuidString: bob.id))
            _ = try await db.transaction { connection in
                try await CreditLedger(dialect: db.dialect).apply(
                    CreditLedger.Movement(userID: bobID, type: .usage, credits: -30, description: "AI Glitch: Animate (30 credits)"),
                    on: connection)
            }
            try await client.grant(200, to: bob, admin: admin)

            // 1000 of 1999 cents: ⌊500 × 1000 ÷ 1999⌋ = 250 credits back, and both bonuses.
            let partial = FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 1000)
            #expect(try await client.webhook(partial).status == .ok)
            #expect(try await client.balance(ann).balance == 250)
            #expect(try await client.balance(bob).balance == 200)
            let bobBonuses = try await self.bonusRows(bob, client)
            #expect(bobBonuses.map(\.credits) == [-70, 200, 100])
            #expect(bobBonuses.first?.description == "Reversed: Referral reward: \(ann.username) joined")
            let annBonuses = try await self.bonusRows(ann, client)
            #expect(annBonuses.map(\.credits) == [-50, 50])
            #expect(annBonuses.first?.description == "Reversed: Welcome bonus: invited by \(bob.username)")
            let reversals = try await db.extraData(type: "bonus").filter { $0["reversed_transaction_id"] != nil }
            #expect(Set(reversals.map { "\($0["wanted"] ?? "")/\($0["shortfall"] ?? "")" }) == ["100/30", "50/0"])
            #expect(reversals.allSatisfy { $0["referred_user_id"] == ann.id })
            #expect(try await db.count("referrals", where: "reversed_at IS NOT NULL") == 1)

            // The full refund takes the rest of the purchase and no bonus again; a later purchase pays no bonus.
            #expect(try await client.webhook(FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 1999)).status == .ok)
            #expect(try await client.balance(ann).balance == 0)
            #expect(try await client.purchase(ann, token: "pm_card_visa").status == .ok)
            #expect(try await client.balance(ann).balance == 500)
            #expect(try await client.balance(bob).balance == 200)
            #expect(try await db.count("credit_transactions", where: "description LIKE 'Reversed:%'") == 2)
            try await client.expectCleanAudit()
        }
    }

    /// A refund that reached the server before the payment's success (it waits for the credit) means no reward at
    /// all, then or for any later payment.
    @Test(arguments: TestDatabase.allCases)
    func aRefundRecordedBeforeTheCreditPaysNoBonusEver(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { _, client, db in
            let bob = try await client.register()
            let ann = try await self.register(invitedBy: try await self.referralCode(of: bob, client), client)
            #expect(try await client.purchase(ann, token: "pm_card_threeDSecure", key: "3ds").status.code == 202)
            #expect(try await client.webhook(FakeStripe.refundEvent(intentID: "pi_fake_1", amount: 1999, amountRefunded: 500)).status == .ok)
            #expect(try await client.webhook(FakeStripe.intentEvent("payment_intent.succeeded", intentID: "pi_fake_1")).status == .ok)
            // 500 credited, ⌊500 × 500 ÷ 1999⌋ = 125 taken back.
            #expect(try await client.balance(ann).balance == 375)
            #expect(try await client.balance(bob).balance == 0)
            #expect(try await db.count("referrals", where: "reward_transaction_id IS NULL AND welcome_transaction_id IS NULL") == 1)
            #expect(try await client.purchase(ann, token: "pm_card_visa").status == .ok)
            #expect(try await client.balance(ann).balance == 875)
            #expect(try await client.balance(bob).balance == 0)
            #expect(try await db.count("credit_transactions", where: "transaction_type = 'bonus'") == 0)
            try await client.expectCleanAudit()
        }
    }

    /// The audit counts referral bonuses from the ledger: a second reward for one referred user shows.
    @Test(arguments: TestDatabase.allCases)
    func theAuditReportsAReferredUserRewardedTwice(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let bob = try await client.register(), admin = try await client.registerAdmin()
            let ann = try await self.register(invitedBy: try await self.referralCode(of: bob, client), client)
            #expect(try await client.purchase(ann, package: "starter_100").status == .ok)
            #expect(try await client.audit(admin: admin).referralsRewardedTwice == [])
            let bobID = try #require(UUID(uuidString: bob.id))
            _ = try await db.transaction { connection in
                try await CreditLedger(dialect: db.dialect).apply(
                    CreditLedger.Movement(
                        userID: bobID, type: .bonus, credits: 100, description: "Referral reward: \(ann.username) joined",
                        extraData: ["referred_user_id": ann.id]),
                    on: connection)
            }
            let audit = try await client.audit(admin: admin)
            #expect(audit.referralsRewardedTwice == [.init(referredUserId: ann.id, userId: bob.id, bonuses: 2)])
            #expect(audit.mismatches.isEmpty)
        }
    }
}
