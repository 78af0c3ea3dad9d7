import Foundation
import Testing

@testable import Reelbase

@Suite("Migrations")
struct MigrationTests {
    @Test(arguments: TestDatabase.allCases)
    func applyingTwiceChangesNothing(_ database: TestDatabase) async throws {
        try await TestApp.withFreshDatabase(database) { url in
            try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                let migrator = Migrator(database: db, logger: TestApp.logger)
                let first = try await migrator.migrate()
                #expect(first == Migrator.all.map(\.version))
                let second = try await migrator.migrate()
                #expect(second.isEmpty)
                let count = try await db.sql.raw("SELECT COUNT(*) AS n FROM schema_migrations").first()?.decode(column: "n", as: Int.self)
                #expect(count == Migrator.all.count)
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func concurrentMigratorsApplyEachVersionOnce(_ database: TestDatabase) async throws {
        try await TestApp.withFreshDatabase(database) { url in
            try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                    for _ in 0..<4 { group.addTask { try await Migrator(database: db, logger: TestApp.logger).migrate() } }
                    return try await group.reduce(into: [Int]()) { $0 += $1 }
                }
                #expect(applied.sorted() == Migrator.all.map(\.version))
            }
        }
    }

    /// Refresh-token families from before sessions existed become sessions, ended when the family was revoked.
    @Test(arguments: TestDatabase.allCases)
    func existingRefreshFamiliesBecomeSessions(_ database: TestDatabase) async throws {
        try await TestApp.withFreshDatabase(database) { url in
            try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                let migrator = Migrator(database: db, logger: TestApp.logger)
                try await migrator.migrate(Migrator.all.filter { $0.version < Migration.rolesAndSessions.version })
                let userID = UUID()
                let (live, revoked) = (UUID(), UUID())
                let now = db.dialect.now
                try await db.sql.raw(
                    """
                    INSERT INTO users (id, email, username, display_name, password_hash, created_at)
                    VALUES (\(bind: userID), 's@example.com', 'sessions', 's', 'x', \(now))
                    """
                ).run()
                // The live family was rotated once (one used token, one live one); the other was logged out.
                for (family, hash, used, revokedAt) in [(live, "a", true, false), (live, "b", false, false), (revoked, "c", true, true), (revoked, "d", false, true)] {
                    try await db.sql.raw(
                        """
                        INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, used_at, revoked_at, created_at)
                        VALUES (\(bind: UUID()), \(bind: family), \(bind: userID), \(bind: hash), \(now),
                                \(used ? now : "NULL"), \(revokedAt ? now : "NULL"), \(now))
                        """
                    ).run()
                }
                try await migrator.migrate()
                let sessions = try await db.sql.raw("SELECT id, user_id, revoked_at FROM sessions").all()
                let ended = try Dictionary(uniqueKeysWithValues: sessions.map { row in
                    #expect(try row.decode(column: "user_id", as: UUID.self) == userID)
                    return (try row.decode(column: "id", as: UUID.self), try row.decode(column: "revoked_at", as: Date?.self) != nil)
                })
                #expect(ended == [live: false, revoked: true])
                #expect(try await db.count("users", where: "role = 'user' AND suspended_at IS NULL") == 1)
                await #expect(throws: (any Error).self) { try await db.sql.raw("UPDATE users SET role = 'root'").run() }
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func ledgerRowsCannotBeEditedOrDeleted(_ database: TestDatabase) async throws {
        try await TestApp.withFreshDatabase(database) { url in
            try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                try await Migrator(database: db, logger: TestApp.logger).migrate()
                let userID = UUID()
                try await db.sql.raw(
                    """
                    INSERT INTO users (id, email, username, display_name, password_hash, created_at, referral_code)
                    VALUES (\(bind: userID), 'l@example.com', 'ledger', 'l', 'x', \(db.dialect.now), 'LEDGER22')
                    """
                ).run()
                let ledger = CreditLedger(dialect: db.dialect)
                _ = try await db.transaction { connection in
                    try await ledger.apply(.init(userID: userID, type: .bonus, credits: 5, description: "test"), on: connection)
                }
                await #expect(throws: (any Error).self) {
                    try await db.sql.raw("UPDATE credit_transactions SET credits = 500").run()
                }
                await #expect(throws: (any Error).self) {
                    try await db.sql.raw("DELETE FROM credit_transactions").run()
                }
                let sum = try await db.sql.raw("SELECT SUM(credits) AS s FROM credit_transactions").first()?.decode(column: "s", as: Int.self)
                #expect(sum == 5)
            }
        }
    }

    /// Upgrading wallets the ledger wrote before lots: V013 gives every wallet holding credits one never-expiring lot
    /// of its whole balance (a wallet at 0 none) and V015 every user a referral code of their own, after which the
    /// extended audit passes and the ledger draws on those lots.
    @Test(arguments: TestDatabase.allCases)
    func walletsFromBeforeLotsUpgradeToOneLotEachACodeAndACleanAudit(_ database: TestDatabase) async throws {
        try await TestApp.withFreshDatabase(database) { url in
            try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                let migrator = Migrator(database: db, logger: TestApp.logger)
                try await migrator.migrate(Migrator.all.filter { $0.version < Migration.creditLots.version })
                // Wallets as the ledger before lots wrote them: a purchase, a job charged and refunded, a grant, a job
                // charged, a card refund; a signup bonus spent to nothing; a user who never had credits.
                let flows: [[(CreditLedger.TransactionType, Int)]] = [
                    [(.purchase, 500), (.usage, -10), (.refund, 10), (.bonus, 50), (.usage, -30), (.refund, -20)],
                    [(.bonus, 25), (.usage, -25)],
                    [],
                ]
                var users: [UUID] = []
                for (index, flow) in flows.enumerated() {
                    let userID = UUID()
                    users.append(userID)
                    try await db.sql.raw(
                        """
                        INSERT INTO users (id, email, username, display_name, password_hash, created_at)
                        VALUES (\(bind: userID), \(bind: "w\(index)@example.com"), \(bind: "wallet\(index)"), 'w', 'x', \(db.dialect.now))
                        """
                    ).run()
                    for (type, credits) in flow {
                        try await db.transaction { connection in
                            try await connection.raw(
                                "UPDATE users SET credits = credits + \(bind: credits), ledger_sequence = ledger_sequence + 1 WHERE id = \(bind: userID)"
                            ).run()
                            try await connection.raw(
                                """
                                INSERT INTO credit_transactions (id, user_id, sequence, transaction_type, credits, balance_after, description, created_at)
                                SELECT \(bind: UUID()), id, ledger_sequence, \(bind: type.rawValue), \(bind: credits), credits, 'before lots',
                                       \(db.dialect.now)
                                FROM users WHERE id = \(bind: userID)
                                """
                            ).run()
                        }
                    }
                }
                let rowsBefore = try await db.count("credit_transactions")

                #expect(try await migrator.migrate() == Migrator.all.map(\.version).filter { $0 >= Migration.creditLots.version })
                #expect(try await db.count("credit_transactions") == rowsBefore)
                let lots = try await db.lots(of: users[0])
                #expect(lots.map(\.granted) == [500] && lots.map(\.remaining) == [500])
                #expect(lots.first?.expiresAt == nil && lots.first?.transactionID == nil)
                #expect(try await db.lots(of: users[1]).isEmpty)
                #expect(try await db.lots(of: users[2]).isEmpty)
                let audit = try await db.audit()
                #expect(audit.usersChecked == 3 && audit.mismatches.isEmpty && audit.overdueLots.isEmpty && audit.paymentMismatches.isEmpty)
                #expect(audit.referralsRewardedTwice.isEmpty && audit.overRedeemedCodes.isEmpty)
                let codes = try await db.sql.raw("SELECT referral_code FROM users").all(decodingColumn: "referral_code", as: String.self)
                #expect(codes.count == 3 && Set(codes).count == 3)
                #expect(codes.allSatisfy { $0.wholeMatch(of: /[A-Z2-9]{8}/) != nil }, "\(codes)")
                // Required from now on, on both databases (PostgreSQL's NOT NULL, SQLite's triggers).
                await #expect(throws: (any Error).self) { try await db.sql.raw("UPDATE users SET referral_code = NULL").run() }

                // The ledger goes on from there: a spend draws on the lot; the refund of a charge from before lots (it
                // drew from no lot) opens a new one; the new row types are accepted.
                let usage = try await db.rows(of: users[0], type: .usage).last
                try await db.spend(100, by: users[0])
                try await db.apply(.init(userID: users[0], type: .refund, credits: 30, description: "Refund", undoing: usage?.id))
                let expiring = try await db.bonus(5, to: users[0], expiresAt: Date().addingTimeInterval(60))
                try await db.backdateLot(openedBy: expiring.id)
                try await db.spend(1, by: users[0])
                #expect(try await db.lots(of: users[0]).map(\.remaining) == [399, 30, 0])
                #expect(try await db.rows(of: users[0], type: .expiry).map(\.credits) == [-5])
                let after = try await db.audit()
                #expect(after.mismatches.isEmpty)
            }
        }
    }
}
