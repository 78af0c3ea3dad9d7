import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

@Suite("Credits: the seed's four endpoints")
struct CreditWalletTests {
    @Test(arguments: TestDatabase.allCases)
    func packagesAreTheSeedsFour(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let response = try await client.get("/v1/credits/packages")
            #expect(response.status == .ok)
            let packages = try response.decode(API.Packages.self).packages
            let seed: [(String, Int, Double, String, Double)] = [
                ("starter_100", 100, 4.99, "Starter Pack", 0.0499),
                ("basic_500", 500, 19.99, "Basic Pack", 0.04),
                ("pro_2000", 2000, 69.99, "Pro Pack", 0.035),
                ("premium_5000", 5000, 149.99, "Premium Pack", 0.03),
            ]
            #expect(packages.count == 4)
            #expect(
                try shape(of: response)["packages"].elements.allSatisfy {
                    $0.keys == ["id", "credits", "price", "name", "price_per_credit", "currency"]
                })
            for (package, expected) in zip(packages, seed) {
                #expect(package.id == expected.0)
                #expect(package.credits == expected.1)
                #expect(package.price == expected.2)
                #expect(package.name == expected.3)
                #expect(package.pricePerCredit == expected.4)
                #expect(package.currency == "USD")
            }
            #expect(response.text.contains(#""price":19.99"#))
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func purchaseAnswersTheSeedsShapeAndWritesOneLedgerRow(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            let response = try await client.purchase(user, token: "pm_1Nabc")
            #expect(response.status == .ok)
            #expect(try keys(of: response) == ["transaction_id", "credits_added", "new_balance", "amount_paid", "currency"])
            let body = try response.decode(API.Purchase.self)
            #expect(body.creditsAdded == 500)
            #expect(body.newBalance == 500)
            #expect(body.amountPaid == 19.99)
            #expect(body.currency == "USD")

            let history = try await client.get("/v1/credits/history", token: user.accessToken).decode(API.History.self)
            let rows = history.transactions
            #expect(rows.count == 1)
            #expect(rows.first?.id == body.transactionId)
            #expect(rows.first?.description == "Purchased Basic Pack (500 credits)")

            let extra = try #require(
                try await db.sql.raw("SELECT extra_data FROM credit_transactions").first()?.decode(column: "extra_data", as: String.self))
            let extraData = try #require(try JSONSerialization.jsonObject(with: Data(extra.utf8)) as? [String: String])
            #expect(Set(extraData.keys) == ["package_id", "payment_method", "gateway", "gateway_payment_id"])
            #expect(extraData["package_id"] == "basic_500" && extraData["gateway"] == "mock" && extraData["payment_method"] == "card")
            #expect(!extra.contains("pm_1Nabc"))
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func balanceCountsEveryRowInExactlyOneTotal(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: ["signup.bonus.credits": "25"]) { client, db in
            let user = try await client.register()
            _ = try await client.purchase(user, package: "starter_100")
            let userID = try #require(UUID(uuidString: user.id))
            let ledger = CreditLedger(dialect: db.dialect)
            for movement in [
                CreditLedger.Movement(userID: userID, type: .usage, credits: -10, description: "AI Glitch: Animate (10 credits)"),
                CreditLedger.Movement(userID: userID, type: .refund, credits: 10, description: "Refund: AI Glitch: Animate (10 credits)"),
                CreditLedger.Movement(userID: userID, type: .usage, credits: -30, description: "AI Glitch: Animate (30 credits)"),
                CreditLedger.Movement(userID: userID, type: .refund, credits: -20, description: "Card refund"),
            ] {
                _ = try await db.transaction { try await ledger.apply(movement, on: $0) }
            }
            let response = try await client.get("/v1/credits/balance", token: user.accessToken)
            #expect(try keys(of: response) == ["balance", "total_earned", "total_spent", "total_expired", "expiring"])
            let balance = try await client.balance(user)
            // earned: bonus 25 + purchase 100 + card refund −20; spent: usage 10 − refund 10 + usage 30
            #expect(balance == API.Balance(balance: 75, totalEarned: 105, totalSpent: 30))
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func historyIsNewestFirstPagedAndFiltered(_ database: TestDatabase) async throws {
        try await TestApp.run(database, settings: ["signup.bonus.credits": "10"]) { client in
            let user = try await client.register()
            for _ in 0..<4 { _ = try await client.purchase(user, package: "starter_100") }
            let first = try await client.get("/v1/credits/history?page=1&page_size=2", token: user.accessToken)
            #expect(try keys(of: first) == ["transactions", "total", "page", "page_size", "has_more"])
            let body = try first.decode(API.History.self)
            #expect(body.total == 5 && body.page == 1 && body.pageSize == 2)
            #expect(body.hasMore == true)
            let rows = body.transactions
            #expect(try shape(of: first)["transactions"].elements.first?.keys == ["id", "transaction_type", "credits", "balance_after", "description", "created_at"])
            #expect(rows.map(\.balanceAfter) == [410, 310])

            let last = try await client.get("/v1/credits/history?page=3&page_size=2", token: user.accessToken).decode(API.History.self)
            #expect(last.transactions.map(\.transactionType) == ["bonus"])
            #expect(last.hasMore == false)

            let all = try await client.get("/v1/credits/history?page_size=100", token: user.accessToken).decode(API.History.self)
            let dates = all.transactions.map(\.createdAt)
            #expect(dates == dates.sorted(by: >) || dates == dates.sorted(by: >=))
            #expect(zip(dates, dates.dropFirst()).allSatisfy { $0 >= $1 })

            let purchases = try await client.get("/v1/credits/history?transaction_type=purchase", token: user.accessToken).decode(API.History.self)
            #expect(purchases.total == 4)
            let empty = try await client.get("/v1/credits/history?transaction_type=", token: user.accessToken).decode(API.History.self)
            #expect(empty.total == 5)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func badHistoryQueriesAre422(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            for query in ["page=0", "page=abc", "page_size=0", "page_size=101", "transaction_type=gift", "page=-1"] {
                try await client.get("/v1/credits/history?\(query)", token: user.accessToken).expectProblem(422, code: "validation_failed")
            }
            try await client.get("/v1/credits/history").expectProblem(401, code: "unauthorized")
            try await client.get("/v1/credits/balance").expectProblem(401, code: "unauthorized")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func declinedAndInvalidPaymentsCreditNothing(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            let declined = try await client.purchase(user, token: "tok_fail_card")
            let problem = try declined.expectProblem(402, code: "payment_failed")
            #expect(problem.detail == "Your card was declined.")
            try await client.purchase(user, token: "pm_fail_x").expectProblem(402, code: "payment_failed")
            try await client.purchase(user, token: "card_4242").expectProblem(422, code: "validation_failed")
            try await client.purchase(user, package: "gold_9000").expectProblem(404, code: "not_found")
            let bad = try await client.post(
                "/v1/credits/purchase", token: user.accessToken, json: ["package_id": "basic_500", "payment_method": "card"])
            try bad.expectProblem(422, code: "validation_failed")
            #expect(try await client.balance(user) == API.Balance(balance: 0, totalEarned: 0, totalSpent: 0))
            let rows = try await db.sql.raw("SELECT COUNT(*) AS n FROM credit_transactions").first()?.decode(column: "n", as: Int.self)
            #expect(rows == 0)
            // The two declines were recorded before their charge and are failed; the invalid requests recorded nothing.
            #expect(try await db.count("payments") == 2)
            #expect(try await db.count("payments", where: "status = 'failed'") == 2)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func signupBonusIsALedgerRow(_ database: TestDatabase) async throws {
        try await TestApp.run(database, settings: ["signup.bonus.credits": "100"]) { client in
            let user = try await client.register()
            let rows = try await client.get("/v1/credits/history", token: user.accessToken).decode(API.History.self).transactions
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            #expect(row.transactionType == "bonus")
            #expect(row.credits == 100 && row.balanceAfter == 100)
        }
    }
}

@Suite("Credits: idempotency and concurrency")
struct CreditConcurrencyTests {
    @Test(arguments: TestDatabase.allCases)
    func sameKeyReplaysByteForByteAndChargesOnce(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            let first = try await client.purchase(user, key: "order-1")
            let second = try await client.purchase(user, key: "order-1")
            #expect(first.status == .ok && second.status == .ok)
            #expect(first.body == second.body)
            #expect(second.headers[.idempotentReplayed] == "true")
            #expect(try await client.balance(user).balance == 500)

            try await client.purchase(user, package: "pro_2000", key: "order-1").expectProblem(409, code: "idempotency_key_reused")
            try await client.purchase(user, key: String(repeating: "k", count: 256)).expectProblem(422, code: "validation_failed")

            // A declined payment's answer is kept too: the same key does not try the card again.
            let declined = try await client.purchase(user, token: "tok_fail", key: "order-2")
            let again = try await client.purchase(user, token: "tok_fail", key: "order-2")
            #expect(declined.status.code == 402 && again.body == declined.body)

            // Keys are per user.
            let other = try await client.register()
            #expect(try await client.purchase(other, key: "order-1").status == .ok)
            #expect(try await client.balance(user).balance == 500)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func twentyConcurrentRequestsWithOneKeyChargeOnce(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<20 { group.addTask { try await client.purchase(user, key: "burst") } }
                return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
            }
            let successes = responses.filter { $0.status == .ok }
            #expect(!successes.isEmpty)
            #expect(Set(successes.map(\.body)).count == 1)
            for response in responses where response.status != .ok {
                try response.expectProblem(409, code: "idempotency_in_progress")
                #expect(response.headers[.retryAfter] != nil)
            }
            #expect(try await client.balance(user).balance == 500)
            let rows = try await db.sql.raw("SELECT COUNT(*) AS n FROM credit_transactions").first()?.decode(column: "n", as: Int.self)
            #expect(rows == 1)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func fiftyConcurrentPurchasesAllLand(_ database: TestDatabase) async throws {
        // One user's purchases queue on that user's balance row, each holding its connection while it waits. With the
        // default 8 connections the 50 would also queue for the pool, and on a loaded machine the last ones pass the
        // 5 s lease timeout (503): what is under test is that every purchase lands exactly, not the pool's size.
        try await TestApp.run(database, settings: ["database.pool.size": "64"]) { client in
            let admin = try await client.registerAdmin()
            let user = try await client.register()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<50 {
                    group.addTask { try await client.purchase(user, package: "starter_100", key: "p-\(index)").status.code }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 50))
            #expect(try await client.balance(user) == API.Balance(balance: 5000, totalEarned: 5000, totalSpent: 0))
            let rows = try await client.get("/v1/credits/history?page_size=100", token: user.accessToken).decode(API.History.self).transactions
            #expect(rows.count == 50)
            #expect(rows.map(\.balanceAfter) == Array(stride(from: 5000, through: 100, by: -100)))
            let audit = try await client.audit(admin: admin)
            #expect(audit.mismatches.isEmpty)
        }
    }
}
