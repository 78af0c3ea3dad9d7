import Foundation
import SQLKit
import Testing

@testable import Reelbase

@Suite("Credits: credits_expiring notices and the audit of payments")
struct ExpiringNoticeTests {
    static let day: TimeInterval = 86_400
    static let threeDays: Duration = .seconds(259_200)

    /// A sweeper over the test's handle on the database, telling owners `notice` ahead.
    static func sweeper(_ db: Reelbase.Database, notice: Duration = Self.threeDays) -> CreditExpirySweeper {
        CreditExpirySweeper(database: db, ledger: db.ledger, interval: .seconds(60), notice: notice, logger: TestApp.logger)
    }

    /// `credits_expiring` notifications of one user (or all, without one).
    static func noticeCount(_ db: Reelbase.Database, of userID: UUID? = nil) async throws -> Int {
        let recipient: SQLQueryString = userID.map { " AND recipient_id = \(bind: $0)" } ?? ""
        return try await db.sql.raw("SELECT COUNT(*) AS n FROM notifications WHERE type = 'credits_expiring'" + recipient)
            .first(decodingColumn: "n", as: Int.self) ?? -1
    }

    @Test(arguments: TestDatabase.allCases)
    func aLotWithinTheNoticeIsNoticedOnceWithWhatItHoldsAndItsUTCDay(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let admin = try await client.registerAdmin()
            let user = try await client.register()
            let userID = try user.uuid
            // Through the API, as a client would: 150 credits expiring in two days, 30 of them spent.
            let expiresAt = Date().addingTimeInterval(2 * Self.day).formatted(.iso8601)
            let grant = try await client.post(
                "/v1/admin/credits/grants", token: admin.accessToken,
                json: GrantBody(user_id: user.id, credits: 150, reason: "Sorry (150 credits)", expires_at: expiresAt))
            #expect(grant.status == .created, "\(grant.text)")
            try await db.spend(30, by: userID)
            // Not within three days; spent to nothing; opened by a subscription period; already past its expiry.
            try await db.bonus(40, to: userID, expiresAt: Date().addingTimeInterval(10 * Self.day))
            let spender = try await client.register().uuid
            try await db.bonus(20, to: spender, expiresAt: Date().addingTimeInterval(Self.day))
            try await db.spend(20, by: spender)
            let subscriber = try await client.register().uuid
            try await db.apply(
                .init(userID: subscriber, type: .subscription, credits: 300, description: "Pro plan", expiresAt: Date().addingTimeInterval(Self.day)))
            let lapsed = try await client.register().uuid
            let late = try await db.bonus(9, to: lapsed, expiresAt: Date().addingTimeInterval(Self.day))
            try await db.backdateLot(openedBy: late.id)

            #expect(try await Self.sweeper(db).sweep() == 1)
            let notifications = try await client.notifications(user)
            // The expiry's day in UTC is the date part of the ISO 8601 instant the grant was given.
            #expect(
                notifications.map { [$0.type, $0.text] } == [["credits_expiring", "120 credits expire on \(expiresAt.prefix(10))."]])
            let notice = try #require(notifications.first)
            #expect(notice.credits == 120 && notice.actor == nil && notice.video == nil && notice.jobId == nil && notice.readAt == nil)
            #expect(try await client.unreadCount(user) == 1)
            // Only that lot: the one a day ahead that was spent, the subscription's and the lapsed one got none.
            #expect(try await Self.noticeCount(db) == 1)
            #expect(try await db.count("credit_lots", where: "expiry_noticed_at IS NOT NULL") == 1)

            // Once per lot: the next pass, and a spend that leaves it less, add nothing.
            try await db.spend(100, by: userID)
            #expect(try await Self.sweeper(db).sweep() == 0)
            #expect(try await client.notifications(user).map(\.id) == [notice.id])
            #expect(try await Self.noticeCount(db) == 1)

            // The ten-day lot comes within a longer notice.
            try await Self.sweeper(db, notice: .seconds(11 * 86_400)).sweep()
            #expect(try await client.notifications(user).map(\.credits) == [40, 120])
            #expect(try await Self.noticeCount(db, of: userID) == 2)
            #expect(try await Self.noticeCount(db) == 2)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aLotShorterThanTheNoticeIsNoticedAtTheNextPass(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            let expiresAt = Date().addingTimeInterval(3600)
            try await db.bonus(1, to: try user.uuid, "Promo (1 credit)", expiresAt: expiresAt)
            try await Self.sweeper(db).sweep()
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            let day = utc.dateComponents([.year, .month, .day], from: expiresAt)
            let date = String(format: "%04d-%02d-%02d", day.year!, day.month!, day.day!)
            let notifications = try await client.notifications(user)
            #expect(notifications.map(\.text) == ["1 credit expires on \(date)."])
            #expect(notifications.map(\.credits) == [1] && notifications.map(\.type) == ["credits_expiring"])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func twoSweepersAtOnceNoticeEachLotOnce(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            var users: [UUID] = []
            for _ in 0..<6 {
                let userID = try await client.register().uuid
                users.append(userID)
                try await db.bonus(50, to: userID)
                try await db.bonus(7, to: userID, expiresAt: Date().addingTimeInterval(Self.day))
                try await db.bonus(11, to: userID, expiresAt: Date().addingTimeInterval(2 * Self.day))
            }
            let sweepers = [Self.sweeper(db), Self.sweeper(db)]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sweeper in sweepers { group.addTask { try await sweeper.sweep() } }
                for userID in users { group.addTask { try await db.spend(1, by: userID) } }
                try await group.waitForAll()
            }
            // A lot its spend held while the sweepers passed is noticed at the next pass, and still only once.
            try await sweepers[0].sweep()
            #expect(try await Self.noticeCount(db) == 12)
            struct PerLot: Decodable { var credits: Int }
            for userID in users {
                #expect(try await Self.noticeCount(db, of: userID) == 2)
                let credits = try await db.sql.raw(
                    "SELECT credits FROM notifications WHERE recipient_id = \(bind: userID) ORDER BY credits"
                ).all(decoding: PerLot.self).map(\.credits)
                // The spend took its credit from the seven-credit lot, before or after that lot's notice.
                #expect(credits == [6, 11] || credits == [7, 11], "\(credits)")
            }
            #expect(try await db.count("credit_lots", where: "expiry_noticed_at IS NOT NULL") == 12)
            try await client.expectCleanAudit()
        }
    }

    @Test func theNoticeIsASettingFromOneSecondToAYear() throws {
        let url = "sqlite://unused.sqlite"
        #expect(try TestApp.configuration(databaseURL: url, settings: [:]).creditsExpiringNoticeSeconds == 259_200)
        let set = try TestApp.configuration(databaseURL: url, settings: ["credits.expiring.notice.seconds": "31536000"])
        #expect(set.creditsExpiringNoticeSeconds == 31_536_000)
        for bad in ["0", "31536001"] {
            #expect(throws: ConfigurationError.self) {
                try TestApp.configuration(databaseURL: url, settings: ["credits.expiring.notice.seconds": bad])
            }
        }
    }

    // MARK: The audit of payments

    @Test(arguments: TestDatabase.allCases)
    func theAuditFindsPaymentsWhoseLedgerRowsDoNotMatch(_ database: TestDatabase) async throws {
        try await FakeStripe.runWithApp(database) { _, client, db in
            let admin = try await client.registerAdmin()
            // A partly refunded purchase, one refunded beyond what was left (a shortfall), and one not refunded.
            let refunded = try await client.register()
            #expect(try await client.purchase(refunded, token: "pm_card_visa").status == .ok)
            let refundedPayment = try await Self.payment(of: refunded, db)
            let partial = FakeStripe.refundEvent(intentID: refundedPayment.intent, amount: 1999, amountRefunded: 1000)
            #expect(try await client.webhook(partial).status == .ok)
            let spent = try await client.register()
            #expect(try await client.purchase(spent, token: "pm_card_visa").status == .ok)
            let spentPayment = try await Self.payment(of: spent, db)
            try await db.spend(450, by: try spent.uuid)
            #expect(try await client.webhook(FakeStripe.refundEvent(intentID: spentPayment.intent, amount: 1999, amountRefunded: 1999)).status == .ok)
            #expect(try await db.count("payments", where: "refund_shortfall_credits = 450") == 1)
            let buyer = try await client.register()
            #expect(try await client.purchase(buyer, token: "pm_card_visa").status == .ok)
            let buyerPayment = try await Self.payment(of: buyer, db)

            let clean = try await client.get("/v1/admin/credits/audit", token: admin.accessToken)
            #expect(try keys(of: clean) == ["users_checked", "mismatches", "overdue_lots", "promo_codes_over_limit", "payment_mismatches", "referrals_rewarded_twice", "subscription_periods_granted_twice"])
            let audit = try clean.decode(API.Audit.self)
            #expect(audit.paymentMismatches == [] && audit.mismatches == [] && audit.usersChecked == 4)

            // Broken by hand, one payment each way.
            try await db.sql.raw("UPDATE payments SET refunded_credits = refunded_credits + 1 WHERE id = \(bind: refundedPayment.id)").run()
            try await db.sql.raw("UPDATE payments SET credited_transaction_id = NULL WHERE id = \(bind: spentPayment.id)").run()
            try await db.sql.raw(
                "UPDATE payments SET credited_transaction_id = \(bind: refundedPayment.credited) WHERE id = \(bind: buyerPayment.id)"
            ).run()
            let broken = try await client.audit(admin: admin)
            #expect(
                broken.paymentMismatches == [
                    .init(paymentId: refundedPayment.id.lowercased, userId: refunded.id, reason: "refunded_credits"),
                    .init(paymentId: spentPayment.id.lowercased, userId: spent.id, reason: "not_credited"),
                    .init(paymentId: buyerPayment.id.lowercased, userId: buyer.id, reason: "crediting_rows"),
                ])
            // The wallets themselves still add up.
            #expect(broken.mismatches == [])

            // A payment that never succeeded but has a purchase row: credits given for nothing.
            try await db.sql.raw(
                "UPDATE payments SET status = 'failed', credited_transaction_id = NULL WHERE id = \(bind: buyerPayment.id)"
            ).run()
            #expect(
                try await client.audit(admin: admin).paymentMismatches.map(\.reason) == ["refunded_credits", "not_credited", "crediting_rows"])
            try await db.sql.raw(
                "UPDATE payments SET status = 'succeeded', credited_transaction_id = \(bind: buyerPayment.credited) WHERE id = \(bind: buyerPayment.id)"
            ).run()
            try await db.sql.raw("UPDATE payments SET refunded_credits = refunded_credits - 1 WHERE id = \(bind: refundedPayment.id)").run()
            try await db.sql.raw("UPDATE payments SET credited_transaction_id = \(bind: spentPayment.credited) WHERE id = \(bind: spentPayment.id)").run()
            #expect(try await client.audit(admin: admin).paymentMismatches == [])
        }
    }

    /// The user's one payment: its id, its gateway's id and the ledger row that credited it.
    static func payment(of user: TestClient.User, _ db: Reelbase.Database) async throws -> (id: UUID, intent: String, credited: UUID) {
        struct Row: Decodable {
            var id: UUID
            var gateway_payment_id: String
            var credited_transaction_id: UUID
        }
        let rows = try await db.sql.raw(
            "SELECT id, gateway_payment_id, credited_transaction_id FROM payments WHERE user_id = \(bind: try user.uuid)"
        ).all(decoding: Row.self)
        let row = try #require(rows.count == 1 ? rows.first : nil, "\(rows.count) payments")
        return (row.id, row.gateway_payment_id, row.credited_transaction_id)
    }

    struct GrantBody: Encodable, Sendable {
        var user_id: String
        var credits: Int
        var reason: String
        var expires_at: String
    }
}
