import Logging
import SQLKit

/// One versioned step of the schema. Its statements are written once, with column types from the dialect.
struct Migration: Sendable {
    let version: Int
    let name: String
    let statements: @Sendable (SQLDialectKind) -> [SQLQueryString]
    /// Work SQL cannot state, run after the statements in the same transaction (the search text of existing rows is
    /// computed in Swift).
    var backfill: (@Sendable (any SQLDatabase, SQLDialectKind) async throws -> Void)? = nil

    init(
        version: Int, name: String, backfill: (@Sendable (any SQLDatabase, SQLDialectKind) async throws -> Void)? = nil,
        statements: @escaping @Sendable (SQLDialectKind) -> [SQLQueryString]
    ) {
        self.version = version
        self.name = name
        self.backfill = backfill
        self.statements = statements
    }
}

/// Applies the migrations a database has not seen yet, recording each in `schema_migrations`.
///
/// All pending migrations run in one transaction, so a failure leaves the schema as it was; concurrent
/// migrators (several instances starting together) wait for each other, and running it again changes nothing.
struct Migrator {
    static let all: [Migration] = [
        .usersAndAuth,
        .socialGraph,
        .creditLedger,
        .effectJobs,
        .stripePayments,
        .rateLimits,
        .paymentsSettle,
        .rolesAndSessions,
        .blocksAndBookmarks,
        .reports,
        .notifications,
        .search,
        .creditLots,
        .promoCodes,
        .referrals,
        .expiringNotices,
        .wideCredits,
        .lotIndexesWithoutRemaining,
        .subscriptions,
        .visibilityIndexes,
    ]

    let database: Database
    let logger: Logger

    /// Returns the versions it applied (empty when the schema was up to date).
    @discardableResult
    func migrate(_ migrations: [Migration] = Migrator.all) async throws -> [Int] {
        let dialect = self.database.dialect
        let applied = try await self.database.transaction { connection in
            if let lock = dialect.migrationLock { try await connection.raw(lock).run() }
            try await connection.raw(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at \(unsafeRaw: dialect.timestampType) NOT NULL
                )
                """
            ).run()
            let done = try Set(
                await connection.raw("SELECT version FROM schema_migrations").all(decodingColumn: "version", as: Int.self)
            )
            var applied: [Int] = []
            for migration in migrations where !done.contains(migration.version) {
                for statement in migration.statements(dialect) {
                    try await connection.raw(statement).run()
                }
                try await migration.backfill?(connection, dialect)
                try await connection.raw(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(bind: migration.version), \(bind: migration.name), \(dialect.now))"
                ).run()
                applied.append(migration.version)
            }
            return applied
        }
        for version in applied {
            self.logger.info("migration applied", metadata: ["version": .stringConvertible(version)])
        }
        self.database.migrated.open()
        return applied
    }
}
