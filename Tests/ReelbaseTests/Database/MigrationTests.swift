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
                    INSERT INTO users (id, email, username, display_name, password_hash, created_at)
                    VALUES (\(bind: userID), 'l@example.com', 'ledger', 'l', 'x', \(db.dialect.now))
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
}
