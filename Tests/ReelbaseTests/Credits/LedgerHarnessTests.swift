import Foundation
import HTTPTypes
import NIOConcurrencyHelpers
import SQLKit
import Testing

@testable import Reelbase

/// A small deterministic generator, so a failing run can be replayed with `REELBASE_TEST_SEED`.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Credits each user should hold, from the operations that reported success.
actor ExpectedBalances {
    private var balances: [String: Int] = [:]
    private(set) var refusals = 0
    func add(_ credits: Int, to user: String) { self.balances[user, default: 0] += credits }
    func refused() { self.refusals += 1 }
    func balance(of user: String) -> Int { self.balances[user, default: 0] }
}

@Suite("Credits: random concurrent operations keep the ledger exact")
struct LedgerHarnessTests {
    /// 8 workers × 1,250 = 10,000 operations per database, with an expiry sweeper running throughout: purchases
    /// (some declined, some keys replayed), grants with and without an expiry (some seconds ahead, so they expire
    /// during the run), promo redemptions, spends, failed jobs' refunds into the lots their spend drew from, card
    /// refunds of mock payments, plain refunds, and clock jumps (a user's expiring lots moved two days back). Every
    /// operation that reports success is counted; what the database decides by itself (what expired, what a card
    /// refund could take) is read back from its rows and checked against its own bounds.
    @Test(arguments: TestDatabase.allCases)
    func mixedOperationsThenAudit(_ database: TestDatabase) async throws {
        let seed = ProcessInfo.processInfo.environment["REELBASE_TEST_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        print("ledger harness (\(database.rawValue)): REELBASE_TEST_SEED=\(seed)")
        let workers = 8
        let operationsPerWorker = 1_250
        let settings = ["rate.limits": "register_ip=1000/1h,promo_user=100000/1h"]
        try await TestApp.runWithDatabase(database, settings: settings) { client, db in
            let admin = try await client.registerAdmin()
            var users: [TestClient.User] = []
            for _ in 0..<6 { users.append(try await client.register()) }
            let people = users
            let codes = (0..<24).map { "HARNESS\($0)" }
            for (index, code) in codes.enumerated() {
                var body: [String: PromoValue] = ["code": .text(code), "credits": .number(5 + index), "max_redemptions": .number(1 + index % 4)]
                if index % 3 == 0 { body["credits_ttl_days"] = 1 }
                #expect(try await client.createPromo(admin, body).status == .created)
            }
            let expected = ExpectedBalances()
            let ledger = CreditLedger(dialect: db.dialect)
            let payments = PaymentStore(database: db, ledger: ledger, catalog: .seed)
            let sweeper = CreditExpirySweeper(database: db, ledger: ledger, interval: .seconds(1), logger: TestApp.logger)
            let packages = [("starter_100", 100), ("basic_500", 500), ("pro_2000", 2000)]

            try await withThrowingTaskGroup(of: Void.self) { group in
                let done = NIOLockedValueBox(false)
                group.addTask {
                    // Sweeps racing the spends, until the workers are done.
                    while !done.withLockedValue({ $0 }) {
                        try await sweeper.sweep()
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
                var running: [Task<Void, any Error>] = []
                for worker in 0..<workers {
                    running.append(Task {
                        var random = SplitMix64(state: seed &+ UInt64(worker))
                        for step in 0..<operationsPerWorker {
                            let user = people[Int.random(in: 0..<people.count, using: &random)]
                            let userID = try user.uuid
                            switch Int.random(in: 0..<100, using: &random) {
                            case 0..<8:
                                let (package, credits) = packages[Int.random(in: 0..<packages.count, using: &random)]
                                let declined = Int.random(in: 0..<10, using: &random) == 0
                                // A few keys repeat, so replays and in-flight duplicates happen too.
                                let key = Int.random(in: 0..<4, using: &random) == 0
                                    ? "k-\(package)-\(declined)-\(Int.random(in: 0..<3, using: &random))" : nil
                                let response = try await client.purchase(
                                    user, package: package, token: declined ? "tok_fail" : "tok_ok", key: key)
                                switch response.status.code {
                                case 200 where response.headers[.idempotentReplayed] == nil:
                                    await expected.add(credits, to: user.id)
                                case 200, 402, 409: break
                                default: Issue.record("purchase answered \(response.status): \(response.text)")
                                }
                            case 8..<15:
                                let credits = Int.random(in: 1...300, using: &random)
                                var body = HarnessGrant(user_id: user.id, credits: credits, reason: "harness \(worker)-\(step)")
                                switch Int.random(in: 0..<3, using: &random) {
                                case 0: body.expires_at = Date().addingTimeInterval(Double(Int.random(in: 2...5, using: &random))).formatted(.iso8601)
                                case 1: body.expires_in_days = Int.random(in: 1...3, using: &random)
                                default: break
                                }
                                let response = try await client.post("/v1/admin/credits/grants", token: admin.accessToken, json: body)
                                #expect(response.status == .created, "grant: \(response.text)")
                                if response.status == .created { await expected.add(credits, to: user.id) }
                            case 15..<21:
                                let response = try await client.redeem(user, codes[Int.random(in: 0..<codes.count, using: &random)])
                                switch response.status.code {
                                case 200: await expected.add(try response.decode(API.Redemption.self).creditsAdded, to: user.id)
                                case 409, 410: break
                                default: Issue.record("redeem answered \(response.status): \(response.text)")
                                }
                            case 21..<66:
                                let credits = Int.random(in: 1...400, using: &random)
                                do {
                                    _ = try await db.apply(
                                        .init(userID: userID, type: .usage, credits: -credits, description: "Harness spend (\(credits) credits)"))
                                    await expected.add(-credits, to: user.id)
                                } catch LedgerError.insufficientCredits {
                                    await expected.refused()
                                }
                            case 66..<76:
                                // A job that failed: its refund goes back to the lots its spend drew from.
                                let credits = Int.random(in: 1...200, using: &random)
                                do {
                                    let spend = try await db.apply(
                                        .init(userID: userID, type: .usage, credits: -credits, description: "Harness job (\(credits) credits)"))
                                    let back = Int.random(in: 1...credits, using: &random)
                                    _ = try await db.apply(
                                        .init(
                                            userID: userID, type: .refund, credits: back, description: "Harness job refund (\(back) credits)",
                                            undoing: spend.id))
                                    await expected.add(back - credits, to: user.id)
                                } catch LedgerError.insufficientCredits {
                                    await expected.refused()
                                }
                            case 76..<81:
                                let wanted = Int.random(in: 1...100, using: &random)
                                try await db.transaction { connection in
                                    guard
                                        let payment = try await connection.raw(
                                            """
                                            SELECT \(PaymentStore.Row.columns) FROM payments
                                            WHERE user_id = \(bind: userID) AND status = 'succeeded' AND refunded_cents < amount_cents
                                            ORDER BY created_at \(db.dialect.forUpdate)
                                            """
                                        ).first(decoding: PaymentStore.Row.self)
                                    else { return }
                                    let cents = min(payment.amountCents, payment.refundedCents + wanted * payment.amountCents / 100)
                                    let charge = StripeEvent.Charge(id: "ch_\(worker)_\(step)", paymentIntent: nil, amountRefunded: cents, metadata: nil)
                                    _ = try await payments.refund(charge, of: payment, on: connection, logger: TestApp.logger)
                                }
                            case 81..<85:
                                // The clock jumps two days for this user's expiring lots, under the owner's lock as every
                                // change of lots is.
                                try await db.transaction { connection in
                                    try await ledger.expireOverdueLots(of: userID, on: connection)
                                    try await connection.raw(
                                        """
                                        UPDATE credit_lots SET expires_at = \(bind: Date().addingTimeInterval(-2 * 86_400))
                                        WHERE user_id = \(bind: userID) AND expires_at IS NOT NULL AND remaining > 0
                                        """
                                    ).run()
                                }
                            default:
                                let credits = Int.random(in: 1...50, using: &random)
                                _ = try await db.apply(
                                    .init(userID: userID, type: .refund, credits: credits, description: "Harness refund (\(credits) credits)"))
                                await expected.add(credits, to: user.id)
                            }
                        }
                    })
                }
                for task in running { try await task.value }
                done.withLockedValue { $0 = true }
                try await group.waitForAll()
            }
            try await sweeper.sweep()

            let audit = try await client.audit(admin: admin)
            #expect(audit.usersChecked == people.count + 1)
            #expect(audit.mismatches.isEmpty, "seed \(seed): \(audit)")
            #expect(audit.overdueLots.isEmpty && audit.promoCodesOverLimit.isEmpty, "seed \(seed)")
            for user in people {
                let userID = try user.uuid
                let balance = try await client.balance(user)
                // What the database took by itself: expired credits and card refunds.
                let taken = try await db.sql.raw(
                    """
                    SELECT COALESCE(SUM(credits), 0) AS taken FROM credit_transactions
                    WHERE user_id = \(bind: userID) AND (transaction_type = 'expiry' OR (transaction_type = 'refund' AND credits < 0))
                    """
                ).first(decodingColumn: "taken", as: Int.self) ?? 0
                let want = await expected.balance(of: user.id)
                #expect(balance.balance == want + taken, "seed \(seed)")
                #expect(balance.balance >= 0)
                #expect(balance.balance == balance.totalEarned - balance.totalSpent - balance.totalExpired)
            }
            let badLots = try await db.sql.raw("SELECT COUNT(*) AS n FROM credit_lots WHERE remaining < 0 OR remaining > granted")
                .first(decodingColumn: "n", as: Int.self)
            #expect(badLots == 0)
            // Card refunds never took more than they wanted, and what they could not take is their shortfall.
            let refunds = try await db.sql.raw(
                """
                SELECT COALESCE(SUM(refunded_credits), 0) AS wanted, COALESCE(SUM(refund_shortfall_credits), 0) AS shortfall FROM payments
                """
            ).first()
            let cardRefunds = try await db.sql.raw(
                "SELECT COALESCE(-SUM(credits), 0) AS n FROM credit_transactions WHERE transaction_type = 'refund' AND credits < 0"
            ).first(decodingColumn: "n", as: Int.self)
            #expect(try refunds.map { try $0.decode(column: "wanted", as: Int.self) - $0.decode(column: "shortfall", as: Int.self) } == cardRefunds)
            #expect(await expected.refusals > 0, "the harness should also exercise refused spends (seed \(seed))")
            #expect(try await db.sql.raw("SELECT COUNT(*) AS n FROM credit_transactions WHERE transaction_type = 'expiry'")
                .first(decodingColumn: "n", as: Int.self) ?? 0 > 0, "the harness should also expire lots (seed \(seed))")
        }
    }
}

/// A grant's body with the optional expiry.
struct HarnessGrant: Encodable, Sendable {
    var user_id: String
    var credits: Int
    var reason: String
    var expires_at: String?
    var expires_in_days: Int?
}
