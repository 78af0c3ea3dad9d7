import Logging
import SQLKit

/// The application's handle on its database: a pooled `SQLDatabase`, the dialect it speaks, and the one
/// transaction helper every write goes through.
public struct Database: Sendable {
    /// Runs statements on any pooled connection. Reads use it directly.
    public let sql: any SQLDatabase
    public let dialect: SQLDialectKind
    let retryPolicy: RetryPolicy
    /// Queues this process's write transactions (SQLite only; see ``WriteGate``).
    let writeGate: WriteGate?

    init(sql: any SQLDatabase, dialect: SQLDialectKind, retryPolicy: RetryPolicy = .default) {
        self.init(sql: sql, dialect: dialect, retryPolicy: retryPolicy, writeGate: dialect == .sqlite ? WriteGate() : nil)
    }

    private init(sql: any SQLDatabase, dialect: SQLDialectKind, retryPolicy: RetryPolicy, writeGate: WriteGate?) {
        self.sql = sql
        self.dialect = dialect
        self.retryPolicy = retryPolicy
        self.writeGate = writeGate
    }

    /// The same database (and write queue) reached through another `SQLDatabase`, e.g. one that observes statements.
    func wrapping(_ sql: (any SQLDatabase) -> any SQLDatabase) -> Database {
        Database(sql: sql(self.sql), dialect: self.dialect, retryPolicy: self.retryPolicy, writeGate: self.writeGate)
    }

    /// Runs `body` in a write transaction on one connection, committing if it returns and rolling back if it throws.
    ///
    /// Serialization failures, deadlocks and SQLite busy errors roll back and run the whole body again, a bounded
    /// number of times, so `body` must touch nothing but the database it is handed. When retries run out, or the
    /// database is unreachable, the error surfaces as ``DatabaseUnavailable`` (answered `503`).
    public func transaction<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        var attempt = 1
        while true {
            do {
                return try await self.inGate { try await self.sql.withSession { connection in
                    try await connection.raw(self.dialect.beginWrite).run()
                    let result: R
                    do {
                        result = try await body(connection)
                    } catch {
                        try? await connection.raw("ROLLBACK").run()
                        throw error
                    }
                    do {
                        try await connection.raw("COMMIT").run()
                    } catch {
                        try? await connection.raw("ROLLBACK").run()
                        throw error
                    }
                    return result
                } }
            } catch {
                switch DatabaseFailure(error) {
                case .retryable where attempt < self.retryPolicy.maxAttempts:
                    try await Task.sleep(for: self.retryPolicy.backoff(attempt: attempt))
                    attempt += 1
                case .retryable, .unavailable:
                    throw DatabaseUnavailable()
                case .uniqueViolation, .other:
                    throw error
                }
            }
        }
    }
}

extension Database {
    /// Whether the database answers a trivial query (the readiness probe).
    func isReachable() async -> Bool {
        (try? await self.sql.raw("SELECT 1").run()) != nil
    }

    fileprivate func inGate<R: Sendable>(_ body: @Sendable () async throws -> R) async throws -> R {
        guard let writeGate else { return try await body() }
        return try await writeGate.withGate(body)
    }
}

/// How often and how patiently a transaction is retried after a serialization failure or lock timeout.
struct RetryPolicy: Sendable {
    var maxAttempts: Int
    var baseDelay: Duration

    static let `default` = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(5))

    /// Exponential backoff with full jitter, so colliding transactions spread out instead of colliding again.
    func backoff(attempt: Int) -> Duration {
        self.baseDelay * (1 << min(attempt, 8)) * Double.random(in: 0...1)
    }
}
