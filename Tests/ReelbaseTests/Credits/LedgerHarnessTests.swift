import Foundation
import HTTPTypes
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
    @Test(arguments: TestDatabase.allCases)
    func mixedOperationsThenAudit(_ database: TestDatabase) async throws {
        let seed = ProcessInfo.processInfo.environment["REELBASE_TEST_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        print("ledger harness (\(database.rawValue)): REELBASE_TEST_SEED=\(seed)")
        let workers = 8
        let operationsPerWorker = 260
        try await TestApp.runWithDatabase(database) { client, db in
            let admin = try await client.registerAdmin()
            var users: [TestClient.User] = []
            for _ in 0..<5 { users.append(try await client.register()) }
            let people = users
            let expected = ExpectedBalances()
            let ledger = CreditLedger(dialect: db.dialect)
            let packages = [("starter_100", 100), ("basic_500", 500), ("pro_2000", 2000)]

            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var random = SplitMix64(state: seed &+ UInt64(worker))
                        for step in 0..<operationsPerWorker {
                            let user = people[Int.random(in: 0..<people.count, using: &random)]
                            switch Int.random(in: 0..<100, using: &random) {
                            case 0..<25:
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
                            case 25..<40:
                                let credits = Int.random(in: 1...300, using: &random)
                                let response = try await client.post(
                                    "/v1/admin/credits/grants", token: admin.accessToken,
                                    json: TestClient.GrantBody(user_id: user.id, credits: credits, reason: "harness \(worker)-\(step)"))
                                #expect(response.status == .created, "grant: \(response.text)")
                                if response.status == .created { await expected.add(credits, to: user.id) }
                            case 40..<90:
                                let credits = Int.random(in: 1...400, using: &random)
                                let movement = CreditLedger.Movement(
                                    userID: try #require(UUID(uuidString: user.id)), type: .usage, credits: -credits,
                                    description: "Harness spend (\(credits) credits)")
                                do {
                                    _ = try await db.transaction { try await ledger.apply(movement, on: $0) }
                                    await expected.add(-credits, to: user.id)
                                } catch LedgerError.insufficientCredits {
                                    await expected.refused()
                                }
                            default:
                                let credits = Int.random(in: 1...50, using: &random)
                                let movement = CreditLedger.Movement(
                                    userID: try #require(UUID(uuidString: user.id)), type: .refund, credits: credits,
                                    description: "Harness refund (\(credits) credits)")
                                _ = try await db.transaction { try await ledger.apply(movement, on: $0) }
                                await expected.add(credits, to: user.id)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }

            let audit = try await client.audit(admin: admin)
            #expect(audit.usersChecked == people.count + 1)
            #expect(audit.mismatches.isEmpty, "seed \(seed): \(audit)")
            for user in people {
                let balance = try await client.balance(user)
                let want = await expected.balance(of: user.id)
                #expect(balance.balance == want, "seed \(seed)")
                #expect(balance.balance >= 0)
                #expect(balance.balance == balance.totalEarned - balance.totalSpent)
            }
            let negative = try await db.sql.raw("SELECT COUNT(*) AS n FROM users WHERE credits < 0").first()?.decode(column: "n", as: Int.self)
            #expect(negative == 0)
            #expect(await expected.refusals > 0, "the harness should also exercise refused spends (seed \(seed))")
        }
    }
}
