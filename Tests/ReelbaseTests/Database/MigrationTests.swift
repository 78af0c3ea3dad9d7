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
