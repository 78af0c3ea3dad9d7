import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import Reelbase

@Suite("Credits: lots, draws and expiry")
struct CreditLotTests {
    static let day: TimeInterval = 86_400

    @Test(arguments: TestDatabase.allCases)
    func spendsDrawSoonestExpiringFirstAcrossLots(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            let userID = try user.uuid
            #expect(try await client.purchase(user, package: "starter_100").status == .ok)
            let soon = Date().addingTimeInterval(2 * Self.day)
            let later = try await db.bonus(50, to: userID, expiresAt: Date().addingTimeInterval(10 * Self.day))
            let first = try await db.bonus(30, to: userID, expiresAt: soon)
            let tied = try await db.bonus(20, to: userID, expiresAt: soon)

            let spend = try await db.spend(90, by: userID)
            let lots = try await db.lots(of: userID)
            #expect(lots.map(\.remaining) == [100, 10, 0, 0])
            let byRow = Dictionary(uniqueKeysWithValues: lots.compactMap { lot in lot.transactionID.map { ($0, lot.id) } })
            let drawn = try await db.draws(by: spend.id)
            // Soonest expiry first, the tie oldest first, never-expiring untouched.
            #expect(drawn == [try #require(byRow[first.id]): 30, try #require(byRow[tied.id]): 20, try #require(byRow[later.id]): 40])

            // Across the last expiring lot into the purchase.
            let second = try await db.spend(20, by: userID)
            #expect(try await db.lots(of: userID).map(\.remaining) == [90, 0, 0, 0])
            #expect(try await db.draws(by: second.id).values.sorted() == [10, 10])
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func overdueLotsExpireAtTheNextSpendAndA402KeepsItsExpiry(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let (_, user, video) = try await client.fundedUserWithVideo(credits: 15)
            let userID = try user.uuid
            let gift = try await db.bonus(20, to: userID, "Welcome gift (20 credits)", expiresAt: Date().addingTimeInterval(Self.day))
            try await db.backdateLot(openedBy: gift.id)

            #expect(try await client.createJob(user, video: video).status == .accepted)
            let expired = try await db.rows(of: userID, type: .expiry)
            #expect(expired.map(\.description) == ["Expired: Welcome gift (20 credits)"])
            #expect(expired.map(\.credits) == [-20] && expired.map(\.balanceAfter) == [15])
            #expect(try await db.rows(of: userID, type: .usage).map(\.balanceAfter) == [5])

            let late = try await db.bonus(7, to: userID, "Promo", expiresAt: Date().addingTimeInterval(Self.day))
            try await db.backdateLot(openedBy: late.id)
            let refused = try await client.createJob(user, video: video, effect: "anime_style").expectProblem(402, code: "insufficient_credits")
            #expect(refused.balance == 5 && refused.required == 20)
            #expect(try await db.rows(of: userID, type: .expiry).map(\.description) == ["Expired: Welcome gift (20 credits)", "Expired: Promo (7 credits)"])
            #expect(try await db.rows(of: userID, type: .usage).count == 1)

            let balance = try await client.balance(user)
            #expect(balance == API.Balance(balance: 5, totalEarned: 42, totalSpent: 10, totalExpired: 27, expiring: []))
            let history = try await client.get("/v1/credits/history?transaction_type=expiry", token: user.accessToken)
            #expect(history.status == .ok)
            #expect(try history.decode(API.History.self).transactions.map(\.credits) == [-7, -20])
            let subscriptions = try await client.get("/v1/credits/history?transaction_type=subscription", token: user.accessToken)
            #expect(try subscriptions.decode(API.History.self).total == 0)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aFailedJobsRefundGoesBackToItsLotsAndExpiresAgainInAnExpiredOne(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            let userID = try user.uuid
            let video = try await client.createVideo(user)
            let promo = try await db.bonus(10, to: userID, "Promo (10 credits)", expiresAt: Date().addingTimeInterval(Self.day))
            #expect(try await client.purchase(user, package: "starter_100").status == .ok)
            let job = try await client.createJob(user, video: video, effect: "anime_style")
            #expect(job.status == .accepted)
            #expect(try await db.lots(of: userID).map(\.remaining) == [0, 90])
            // The promo's lot, empty now, passes its expiry while the job runs.
            try await db.backdateLot(openedBy: promo.id)
            #expect(try await client.worker("claim").status == .ok)
            let jobID = try job.decode(API.JobAccepted.self).jobId
            #expect(try await client.worker("\(jobID)/fail", json: ["error": "GPU on fire"]).status == .ok)

            let history = try await client.get("/v1/credits/history", token: user.accessToken).decode(API.History.self)
            #expect(history.transactions.prefix(2).map(\.transactionType) == ["expiry", "refund"])
            #expect(history.transactions.prefix(2).map(\.credits) == [-10, 20])
            #expect(history.transactions.first?.description == "Expired: Promo (10 credits)")
            #expect(try await db.lots(of: userID).map(\.remaining) == [0, 100])
            #expect(try await client.balance(user).balance == 100)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aCardRefundTakesFromItsPurchaseFirstThenInSpendOrder(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            let userID = try user.uuid
            try await db.bonus(40, to: userID, expiresAt: Date().addingTimeInterval(5 * Self.day))
            let purchase = try #require(UUID(uuidString: try await client.purchase(user).decode(API.Purchase.self).transactionId))
            try await db.bonus(60, to: userID)
            func refund(_ credits: Int) async throws {
                try await db.apply(.init(userID: userID, type: .refund, credits: -credits, description: "Card refund", undoing: purchase))
            }
            try await refund(100)
            #expect(try await db.lots(of: userID).map(\.remaining) == [40, 400, 60])
            try await refund(420)
            // The purchase's 400, then the lot expiring soonest.
            #expect(try await db.lots(of: userID).map(\.remaining) == [20, 0, 60])
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func concurrentSpendsNeverOverdrawALotAndExpireItOnce(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            let userID = try user.uuid
            try await db.bonus(100, to: userID)
            try await db.bonus(30, to: userID, expiresAt: Date().addingTimeInterval(Self.day))
            try await db.bonus(20, to: userID, expiresAt: Date().addingTimeInterval(2 * Self.day))
            let overdue = try await db.bonus(5, to: userID, expiresAt: Date().addingTimeInterval(Self.day))
            try await db.backdateLot(openedBy: overdue.id)

            let outcomes = OutcomeCounter()
            try await concurrently(Array(0..<20), width: 8) { _ in
                do {
                    try await db.spend(10, by: userID)
                    outcomes.add("spent")
                } catch LedgerError.insufficientCredits(required: 10, balance: 0) {
                    outcomes.add("refused")
                }
            }
            #expect(outcomes.counts == ["spent": 15, "refused": 5])
            #expect(try await db.rows(of: userID, type: .expiry).map(\.credits) == [-5])
            #expect(try await db.lots(of: userID).map(\.remaining) == [0, 0, 0, 0])
            #expect(try await client.balance(user).balance == 0)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func twoSweepersAtOnceExpireEachLotOnce(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            var users: [UUID] = []
            for _ in 0..<6 {
                let userID = try await client.register().uuid
                users.append(userID)
                try await db.bonus(50, to: userID)
                for credits in [7, 11] {
                    let lot = try await db.bonus(credits, to: userID, "Promo (\(credits) credits)", expiresAt: Date().addingTimeInterval(Self.day))
                    try await db.backdateLot(openedBy: lot.id)
                }
                try await db.bonus(3, to: userID, expiresAt: Date().addingTimeInterval(Self.day))
            }
            let sweepers = (0..<2).map { _ in CreditExpirySweeper(database: db, ledger: db.ledger, interval: .seconds(60), logger: TestApp.logger) }
            let expired = try await withThrowingTaskGroup(of: Int.self) { group in
                for sweeper in sweepers { group.addTask { try await sweeper.sweep() } }
                return try await group.reduce(0, +)
            }
            #expect(expired == 12)
            for userID in users {
                #expect(try await db.rows(of: userID, type: .expiry).map(\.credits).sorted() == [-11, -7])
                #expect(try await db.lots(of: userID).map(\.remaining) == [50, 0, 0, 3])
            }
            #expect(try await sweepers[0].sweep() == 0)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aSweeperRacingSpendsExpiresEachLotOnce(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            var users: [UUID] = []
            for _ in 0..<8 {
                let userID = try await client.register().uuid
                users.append(userID)
                try await db.bonus(50, to: userID)
                let lot = try await db.bonus(20, to: userID, expiresAt: Date().addingTimeInterval(Self.day))
                try await db.backdateLot(openedBy: lot.id)
            }
            let sweeper = CreditExpirySweeper(database: db, ledger: db.ledger, interval: .seconds(60), logger: TestApp.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await sweeper.sweep() }
                for userID in users { group.addTask { try await db.spend(10, by: userID) } }
                try await group.waitForAll()
            }
            for userID in users {
                #expect(try await db.rows(of: userID, type: .expiry).map(\.credits) == [-20])
                #expect(try await db.lots(of: userID).map(\.remaining) == [40, 0])
            }
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func grantsTakeAnExpiryAndRefuseToPassTheBalanceLimit(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let admin = try await client.registerAdmin()
            let user = try await client.register()
            struct Body: Encodable, Sendable {
                var user_id: String
                var credits = 40
                var reason = "Sorry (for the outage)"
                var expires_at: String?
                var expires_in_days: Int?
            }
            func grant(_ body: Body) async throws -> TestResponse {
                try await client.post("/v1/admin/credits/grants", token: admin.accessToken, json: body)
            }
            let days = try await grant(Body(user_id: user.id, expires_in_days: 30))
            #expect(days.status == .created)
            #expect(try keys(of: days) == ["id", "transaction_type", "credits", "balance_after", "description", "created_at", "user_id", "expires_at"])
            let inThirtyDays = try #require(try days.decode(API.Grant.self).expiresAt)
            let at = "2099-01-02T03:04:05Z"
            let fixed = try await grant(Body(user_id: user.id, credits: 30, expires_at: at))
            #expect(fixed.status == .created)
            #expect(try fixed.decode(API.Grant.self).expiresAt == at)
            let never = try await grant(Body(user_id: user.id, credits: 5))
            #expect(never.status == .created)
            #expect(try keys(of: never).contains("expires_at"))
            #expect(try never.decode(API.Grant.self).expiresAt == nil)

            let balance = try await client.balance(user)
            #expect(balance.balance == 75 && balance.expiring == [.init(credits: 40, expiresAt: inThirtyDays), .init(credits: 30, expiresAt: at)])

            for bad in [
                Body(user_id: user.id, expires_at: at, expires_in_days: 30), Body(user_id: user.id, expires_at: "2001-01-01T00:00:00Z"),
                Body(user_id: user.id, expires_at: "tomorrow"), Body(user_id: user.id, expires_in_days: 0),
                Body(user_id: user.id, expires_in_days: 3651),
            ] {
                let problem = try await grant(bad).expectProblem(422, code: "validation_failed")
                #expect(problem.errors?.count == 1, "\(bad)")
            }
            // Near the limit (a payment may take a balance anywhere; a grant may not take it above 2,000,000,000).
            try await db.bonus(1_999_999_915, to: try user.uuid)
            try await grant(Body(user_id: user.id, credits: 11)).expectProblem(422, code: "balance_limit")
            #expect(try await client.balance(user).balance == 1_999_999_990)
            #expect(try await grant(Body(user_id: user.id, credits: 10)).status == .created)
            // Past the limit, and past 2^31 − 1 (the ledger's and the lots' columns are 64-bit): payments still credit.
            try await db.bonus(1_000_000_000, to: try user.uuid)
            #expect(try await client.purchase(user, package: "basic_500").status == .ok)
            #expect(try await client.balance(user).balance == 3_000_000_500)
            let top = try await client.get("/v1/credits/history", token: user.accessToken).decode(API.History.self).transactions.first
            #expect(top?.balanceAfter == 3_000_000_500 && top?.transactionType == "purchase")
            try await client.expectCleanAudit()
        }
    }

    /// A spend first reads `CreditLedger.lotsReadFirst` (8) lots: more overdue lots than that still all expire, and a
    /// spend those lots do not cover reads on to the ones it needs.
    @Test(arguments: TestDatabase.allCases)
    func spendsReachPastTheFirstLotsTheyRead(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            let id = try user.uuid
            for _ in 0..<10 {
                try await db.backdateLot(openedBy: try await db.bonus(1, to: id, expiresAt: Date().addingTimeInterval(Self.day)).id)
            }
            for _ in 0..<12 { try await db.bonus(2, to: id) }
            try await db.spend(20, by: id)
            #expect(try await db.rows(of: id, type: .expiry).count == 10)
            #expect(try await client.balance(user).balance == 4)
            // Oldest first: the ten expired lots, then the never-expiring ones, drawn oldest first.
            #expect(try await db.lots(of: id).map(\.remaining) == Array(repeating: 0, count: 20) + [2, 2])
            try await client.expectCleanAudit()
        }
    }

    /// PostgreSQL updates a lot in place (HOT: no new index entries) when a spend leaves credits in it: no index of
    /// `credit_lots` may involve `remaining` (migration 18). Counted by the transaction's own statistics.
    @Test func aSpendThatLeavesCreditsInItsLotUpdatesItInPlace() async throws {
        try await TestApp.runWithDatabase(.postgres) { client, db in
            let user = try await client.register()
            try await db.bonus(100, to: try user.uuid)
            let counts = try await db.transaction { connection in
                _ = try await CreditLedger(dialect: db.dialect).apply(
                    .init(userID: try user.uuid, type: .usage, credits: -10, description: "AI Glitch: Animate (10 credits)"), on: connection)
                return try await connection.raw(
                    """
                    SELECT pg_stat_get_xact_tuples_updated('credit_lots'::regclass) AS updated,
                           pg_stat_get_xact_tuples_hot_updated('credit_lots'::regclass) AS hot
                    """
                ).first().map { [try $0.decode(column: "updated", as: Int.self), try $0.decode(column: "hot", as: Int.self)] }
            }
            #expect(counts == [1, 1])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func theSignupBonusLotExpiresAfterItsTTL(_ database: TestDatabase) async throws {
        try await TestApp.run(database, settings: ["signup.bonus.credits": "25", "signup.bonus.ttl.days": "7"]) { client in
            let before = Date()
            let user = try await client.register()
            let expiring = try await client.balance(user).expiring
            #expect(expiring.map(\.credits) == [25])
            let at = try #require(try expiring.first.map { try Date($0.expiresAt, strategy: .iso8601) })
            #expect(abs(at.timeIntervalSince(before) - 7 * Self.day) < 60)
        }
        try await TestApp.run(database, settings: ["signup.bonus.credits": "25"]) { client in
            let user = try await client.register()
            #expect(try await client.balance(user) == API.Balance(balance: 25, totalEarned: 25, totalSpent: 0))
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func theAuditFindsBrokenLotsAndLotsTheSweeperLeft(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let admin = try await client.registerAdmin()
            let user = try await client.register()
            let userID = try user.uuid
            let stale = try await db.bonus(9, to: userID, expiresAt: Date().addingTimeInterval(Self.day))
            let recent = try await db.bonus(4, to: userID, expiresAt: Date().addingTimeInterval(Self.day))
            // Two sweep intervals are 120 s by default: three minutes overdue is reported, thirty seconds is not.
            try await db.backdateLot(openedBy: stale.id, by: 180)
            try await db.backdateLot(openedBy: recent.id, by: 30)
            let response = try await client.get("/v1/admin/credits/audit", token: admin.accessToken)
            #expect(try keys(of: response) == [
                "users_checked", "mismatches", "overdue_lots", "promo_codes_over_limit", "payment_mismatches", "referrals_rewarded_twice",
                "subscription_periods_granted_twice",
            ])
            let audit = try response.decode(API.Audit.self)
            let staleLot = try #require(try await db.lot(openedBy: stale.id))
            #expect(audit.mismatches.isEmpty)
            #expect(audit.overdueLots.map(\.lotId) == [staleLot.id.lowercased])
            #expect(audit.overdueLots.map(\.userId) == [user.id] && audit.overdueLots.map(\.remaining) == [9])

            // A lot that lost a credit without a draw: its owner's lots no longer add up to the balance.
            try await db.sql.raw("UPDATE credit_lots SET remaining = remaining - 1 WHERE id = \(bind: staleLot.id)").run()
            let broken = try await client.audit(admin: admin)
            #expect(broken.mismatches.map(\.userId) == [user.id])
            #expect(broken.mismatches.map(\.badLotIds) == [[staleLot.id.lowercased]])
            #expect(broken.mismatches.map(\.badRowIds) == [[]])
        }
    }
}

/// Tallies the outcomes of concurrent attempts.
final class OutcomeCounter: Sendable {
    private let box = NIOLockedValueBox([String: Int]())
    func add(_ outcome: String) { self.box.withLockedValue { $0[outcome, default: 0] += 1 } }
    var counts: [String: Int] { self.box.withLockedValue { $0 } }
}
