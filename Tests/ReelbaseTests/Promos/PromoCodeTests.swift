import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import Reelbase

@Suite("Promo codes: admin endpoints, redemption checks, limits")
struct PromoCodeTests {
    static let promoKeys: Set<String> = [
        "code", "credits", "max_redemptions", "redemptions", "expires_at", "credits_ttl_days", "credits_expire_at", "created_at",
    ]

    @Test(arguments: TestDatabase.allCases)
    func adminsCreateListAndEndCodesEachInTheModerationLog(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let admin = try await client.registerAdmin()
            let user = try await client.register()

            let created = try await client.createPromo(admin, ["code": " summer-25 ", "credits": 100, "max_redemptions": 3])
            #expect(created.status == .created)
            #expect(try keys(of: created) == Self.promoKeys)
            let summer = try created.decode(API.PromoCode.self)
            #expect(summer.code == "SUMMER-25" && summer.credits == 100 && summer.maxRedemptions == 3 && summer.redemptions == 0)
            #expect(summer.expiresAt == nil && summer.creditsTtlDays == nil && summer.creditsExpireAt == nil)
            // Unique whatever the case.
            try await client.createPromo(admin, ["code": "Summer-25", "credits": 5]).expectProblem(409, code: "promo_code_taken")
            try await client.createPromo(user, ["code": "MINE", "credits": 5]).expectProblem(403, code: "forbidden")

            let later = "2099-03-04T05:06:07Z"
            let refused: [[String: PromoValue]] = [
                ["code": "ABC", "credits": 5], ["code": .text(String(repeating: "A", count: 33)), "credits": 5], ["code": "NO SPACE", "credits": 5],
                ["code": "ÜBER", "credits": 5], ["code": "ZERO", "credits": 0], ["code": "HUGE", "credits": 100_001],
                ["code": "NONE", "credits": 5, "max_redemptions": 0], ["code": "PAST", "credits": 5, "expires_at": "2001-01-01T00:00:00Z"],
                ["code": "TTL0", "credits": 5, "credits_ttl_days": 0], ["code": "TTLX", "credits": 5, "credits_ttl_days": 3651],
                ["code": "BOTH", "credits": 5, "credits_ttl_days": 7, "credits_expire_at": .text(later)],
                ["code": "WHEN", "credits": 5, "credits_expire_at": "soon"],
            ]
            for bad in refused {
                let problem = try await client.createPromo(admin, bad).expectProblem(422, code: "validation_failed")
                #expect(problem.errors?.count == 1, "\(bad)")
            }

            let fixed = try await client.createPromo(admin, ["code": "FIXED_1", "credits": 7, "expires_at": .text(later), "credits_expire_at": .text(later)])
            #expect(try fixed.decode(API.PromoCode.self).creditsExpireAt == later)
            #expect(try fixed.decode(API.PromoCode.self).expiresAt == later)
            let ttl = try await client.createPromo(admin, ["code": "WEEK", "credits": 9, "credits_ttl_days": 7])
            #expect(try ttl.decode(API.PromoCode.self).creditsTtlDays == 7)

            let listed = try await client.walk(
                "/v1/admin/promo-codes", as: API.PromoPage.self, limit: 2, token: admin.accessToken, itemKeys: Self.promoKeys)
            #expect(listed.map(\.code) == ["WEEK", "FIXED_1", "SUMMER-25"])
            try await client.get("/v1/admin/promo-codes", token: user.accessToken).expectProblem(403, code: "forbidden")

            let ended = try await client.request(
                .patch, "/v1/admin/promo-codes/summer-25", token: admin.accessToken, json: ["expires_at": "2020-01-01T00:00:00Z"])
            #expect(ended.status == .ok)
            #expect(try ended.decode(API.PromoCode.self).expiresAt == "2020-01-01T00:00:00Z")
            try await client.redeem(user, "SUMMER-25").expectProblem(410, code: "promo_expired")
            try await client.request(.patch, "/v1/admin/promo-codes/NOPE", token: admin.accessToken, json: ["expires_at": later])
                .expectProblem(404, code: "promo_not_found")
            // Foundation would read minute 99 as the next hour, and February 30 as March 2.
            for bad in ["never", "2024-01-01T12:99:00Z", "2031-02-30T00:00:00Z", "2031-01-01T00:00:00+25:00"] {
                try await client.request(.patch, "/v1/admin/promo-codes/WEEK", token: admin.accessToken, json: ["expires_at": bad])
                    .expectProblem(422, code: "validation_failed")
            }
            let offset = try await client.request(
                .patch, "/v1/admin/promo-codes/WEEK", token: admin.accessToken, json: ["expires_at": "2031-01-01T09:00:00.5+09:00"])
            #expect(try offset.decode(API.PromoCode.self).expiresAt == "2031-01-01T00:00:00Z")

            let logged = try await db.sql.raw(
                "SELECT action FROM moderation_log WHERE target_type = 'promo_code' ORDER BY created_at"
            ).all(decodingColumn: "action", as: String.self)
            #expect(logged == ["create_promo_code", "create_promo_code", "create_promo_code", "set_promo_code_expiry", "set_promo_code_expiry"])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aRedemptionIsCheckedInAPIOrderAndCreditsOneBonusRow(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let admin = try await client.registerAdmin()
            let (ann, bob, cat) = (try await client.register(), try await client.register(), try await client.register())
            #expect(try await client.createPromo(admin, ["code": "ONCE", "credits": 40, "max_redemptions": 1]).status == .created)
            #expect(try await client.createPromo(admin, ["code": "OPEN", "credits": 25]).status == .created)

            try await client.redeem(ann, "NOSUCH").expectProblem(404, code: "promo_not_found")
            try await client.redeem(ann, "  ").expectProblem(422, code: "validation_failed")
            let redeemed = try await client.redeem(ann, " once ")
            #expect(redeemed.status == .ok)
            #expect(try keys(of: redeemed) == ["transaction_id", "credits_added", "new_balance", "expires_at"])
            let answer = try redeemed.decode(API.Redemption.self)
            #expect(answer.creditsAdded == 40 && answer.newBalance == 40 && answer.expiresAt == nil)
            let rows = try await client.history(ann).transactions
            #expect(rows.map(\.description) == ["Promo code ONCE (40 credits)"] && rows.map(\.transactionType) == ["bonus"])
            #expect(rows.map(\.id) == [answer.transactionId])

            try await client.redeem(ann, "ONCE").expectProblem(409, code: "promo_already_redeemed")
            try await client.redeem(bob, "ONCE").expectProblem(409, code: "promo_exhausted")
            #expect(try await client.redeem(bob, "open").status == .ok)
            // Ended: the caller's own redemption still comes first, then expiry before exhaustion.
            try await db.sql.raw("UPDATE promo_codes SET expires_at = \(bind: Date().addingTimeInterval(-1))").run()
            try await client.redeem(bob, "OPEN").expectProblem(409, code: "promo_already_redeemed")
            try await client.redeem(bob, "ONCE").expectProblem(410, code: "promo_expired")
            try await client.redeem(cat, "OPEN").expectProblem(410, code: "promo_expired")

            #expect(try await client.balance(ann).balance == 40)
            #expect(try await client.balance(bob).balance == 25)
            #expect(try await client.balance(cat).balance == 0)
            let audit = try await client.audit(admin: admin)
            #expect(audit.mismatches.isEmpty && audit.promoCodesOverLimit.isEmpty)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func redeemedCreditsExpireAsTheCodeSays(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let admin = try await client.registerAdmin()
            let user = try await client.register()
            let at = "2099-01-02T03:04:05Z"
            #expect(try await client.createPromo(admin, ["code": "WEEK", "credits": 10, "credits_ttl_days": 7]).status == .created)
            #expect(try await client.createPromo(admin, ["code": "FIXED", "credits": 20, "credits_expire_at": .text(at)]).status == .created)
            let before = Date()
            let week = try await client.redeem(user, "WEEK").decode(API.Redemption.self)
            let inAWeek = try Date(try #require(week.expiresAt), strategy: .iso8601)
            #expect(abs(inAWeek.timeIntervalSince(before) - 7 * 86_400) < 60)
            #expect(try await client.redeem(user, "FIXED").decode(API.Redemption.self).expiresAt == at)
            let balance = try await client.balance(user)
            #expect(balance.balance == 30 && balance.expiring.map(\.credits) == [10, 20] && balance.expiring.last?.expiresAt == at)

            // A code whose credits' fixed expiry has passed grants nothing any more: it has ended.
            try await db.sql.raw("UPDATE promo_codes SET credits_expire_at = \(bind: Date().addingTimeInterval(-1)) WHERE code = 'FIXED'").run()
            try await client.redeem(try await client.register(), "FIXED").expectProblem(410, code: "promo_expired")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func concurrentRedemptionsTakeExactlyMaxRedemptions(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let admin = try await client.registerAdmin()
            let limit = 4
            #expect(try await client.createPromo(admin, ["code": "RACE", "credits": 15, "max_redemptions": .number(limit)]).status == .created)
            var users: [TestClient.User] = []
            for _ in 0..<(3 * limit) { users.append(try await client.register()) }
            let outcomes = OutcomeCounter()
            try await concurrently(users, width: 3 * limit) { user in
                let response = try await client.redeem(user, "RACE")
                outcomes.add(response.status == .ok ? "ok" : (try? response.decode(API.Problem.self).code) ?? response.text)
            }
            #expect(outcomes.counts == ["ok": limit, "promo_exhausted": 2 * limit])
            let counter = try await db.sql.raw("SELECT redemptions FROM promo_codes WHERE code = 'RACE'").first(decodingColumn: "redemptions", as: Int.self)
            #expect(counter == limit)
            var credited = 0
            for user in users { credited += try await client.balance(user).balance }
            #expect(credited == 15 * limit)

            // One user many times at once: one redemption.
            #expect(try await client.createPromo(admin, ["code": "SAME", "credits": 5]).status == .created)
            let user = try await client.register()
            let own = OutcomeCounter()
            try await concurrently(Array(0..<8), width: 8) { _ in
                let response = try await client.redeem(user, "SAME")
                own.add(response.status == .ok ? "ok" : (try? response.decode(API.Problem.self).code) ?? response.text)
            }
            #expect(own.counts == ["ok": 1, "promo_already_redeemed": 7])
            #expect(try await client.balance(user).balance == 5)
            let audit = try await client.audit(admin: admin)
            #expect(audit.mismatches.isEmpty && audit.promoCodesOverLimit.isEmpty)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func anIdempotencyKeyReplaysTheRedemption(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, _ in
            let admin = try await client.registerAdmin()
            let user = try await client.register()
            #expect(try await client.createPromo(admin, ["code": "KEYED", "credits": 12]).status == .created)
            #expect(try await client.createPromo(admin, ["code": "OTHER", "credits": 3]).status == .created)
            let first = try await client.redeem(user, "KEYED", key: "k-1")
            #expect(first.status == .ok && first.headers[.idempotentReplayed] == nil)
            let again = try await client.redeem(user, "keyed", key: "k-1")
            #expect(again.status == .ok && again.headers[.idempotentReplayed] == "true")
            #expect(again.body == first.body)
            try await client.redeem(user, "OTHER", key: "k-1").expectProblem(409, code: "idempotency_key_reused")
            // A refused redemption keeps nothing under its key: the same key works for a redemption that can succeed.
            try await client.redeem(user, "NOSUCH", key: "k-2").expectProblem(404, code: "promo_not_found")
            #expect(try await client.redeem(user, "OTHER", key: "k-2").status == .ok)
            #expect(try await client.history(user).transactions.map(\.credits) == [3, 12])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func failedAttemptsAreLimitedAndSuccessesAreNot(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: ["rate.limits": "register_ip=1000/1h,promo_user=3/1h"]) { client, _ in
            let admin = try await client.registerAdmin()
            let user = try await client.register()
            for code in ["A111", "B222", "C333", "D444"] {
                #expect(try await client.createPromo(admin, ["code": .text(code), "credits": 1]).status == .created)
            }
            // Successes give their count back.
            for code in ["A111", "B222", "C333"] { #expect(try await client.redeem(user, code).status == .ok) }
            for guess in ["X1", "X2", "X3"] { try await client.redeem(user, guess).expectProblem(404, code: "promo_not_found") }
            let limited = try await client.redeem(user, "D444")
            _ = try limited.expectProblem(429, code: "rate_limited")
            #expect(limited.headers[.retryAfter].flatMap(Int.init).map { $0 > 0 } == true)
            // Per user.
            #expect(try await client.redeem(try await client.register(), "D444").status == .ok)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aRedemptionPastTheBalanceLimitWritesNothing(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let admin = try await client.registerAdmin()
            let user = try await client.register()
            try await db.bonus(1_999_999_990, to: try user.uuid)
            #expect(try await client.createPromo(admin, ["code": "TOOMUCH", "credits": 11]).status == .created)
            try await client.redeem(user, "TOOMUCH").expectProblem(422, code: "balance_limit")
            let counter = try await db.sql.raw("SELECT redemptions FROM promo_codes").first(decodingColumn: "redemptions", as: Int.self)
            #expect(counter == 0)
            #expect(try await client.balance(user).balance == 1_999_999_990)
            // The refusal was no redemption: once the balance is lower, the same user may redeem.
            try await db.spend(1, by: try user.uuid)
            #expect(try await client.redeem(user, "TOOMUCH").status == .ok)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func theAuditReportsCodesRedeemedPastTheirLimit(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let admin = try await client.registerAdmin()
            #expect(try await client.createPromo(admin, ["code": "TWICE", "credits": 2, "max_redemptions": 2]).status == .created)
            #expect(try await client.redeem(try await client.register(), "TWICE").status == .ok)
            #expect(try await client.audit(admin: admin).promoCodesOverLimit.isEmpty)
            // A counter that lost a redemption would let one more through than max_redemptions allows.
            try await db.sql.raw("UPDATE promo_codes SET redemptions = redemptions - 1").run()
            #expect(
                try await client.audit(admin: admin).promoCodesOverLimit
                    == [.init(code: "TWICE", maxRedemptions: 2, redemptions: 0, redeemed: 1)])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func anAdminGrantWithAnIdempotencyKeyGrantsOnce(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, _ in
            let admin = try await client.registerAdmin()
            let user = try await client.register()
            var headers = HTTPFields()
            headers[.idempotencyKey] = "grant-1"
            let body = TestClient.GrantBody(user_id: user.id, credits: 30, reason: "Outage")
            let first = try await client.post("/v1/admin/credits/grants", token: admin.accessToken, json: body, headers: headers)
            #expect(first.status == .created)
            let again = try await client.post("/v1/admin/credits/grants", token: admin.accessToken, json: body, headers: headers)
            #expect(again.status == .created && again.headers[.idempotentReplayed] == "true" && again.body == first.body)
            let other = TestClient.GrantBody(user_id: user.id, credits: 31, reason: "Outage")
            try await client.post("/v1/admin/credits/grants", token: admin.accessToken, json: other, headers: headers)
                .expectProblem(409, code: "idempotency_key_reused")
            #expect(try await client.balance(user).balance == 30)
        }
    }
}

/// A JSON value of a promo-code body.
enum PromoValue: Encodable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case text(String)
    case number(Int)

    init(stringLiteral value: String) { self = .text(value) }
    init(integerLiteral value: Int) { self = .number(value) }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .number(let number): try container.encode(number)
        }
    }
}

extension TestClient {
    func createPromo(_ admin: User, _ body: [String: PromoValue]) async throws -> TestResponse {
        try await self.post("/v1/admin/promo-codes", token: admin.accessToken, json: body)
    }

    func redeem(_ user: User, _ code: String, key: String? = nil) async throws -> TestResponse {
        var headers = HTTPFields()
        if let key { headers[.idempotencyKey] = key }
        return try await self.post("/v1/credits/redeem", token: user.accessToken, json: ["code": code], headers: headers)
    }
}
