import Foundation
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
    /// What this process knows about reaching the database server without asking it (PostgreSQL only).
    let reachability: (any DatabaseReachability)?
    /// Wakes this process's event streams. On SQLite rung here after each commit that wrote events; on PostgreSQL by
    /// the ``PostgresEventListener``, which hears every instance's commits.
    let eventBus: EventBus
    /// Open once this process has migrated the schema: what background passes wait for.
    let migrated: MigrationGate

    init(sql: any SQLDatabase, dialect: SQLDialectKind, reachability: (any DatabaseReachability)? = nil, retryPolicy: RetryPolicy = .default) {
        self.init(
            sql: sql, dialect: dialect, retryPolicy: retryPolicy, writeGate: dialect == .sqlite ? WriteGate() : nil, reachability: reachability,
            eventBus: EventBus(), migrated: MigrationGate())
    }

    private init(
        sql: any SQLDatabase, dialect: SQLDialectKind, retryPolicy: RetryPolicy, writeGate: WriteGate?, reachability: (any DatabaseReachability)?,
        eventBus: EventBus, migrated: MigrationGate
    ) {
        self.sql = sql
        self.dialect = dialect
        self.retryPolicy = retryPolicy
        self.writeGate = writeGate
        self.reachability = reachability
        self.eventBus = eventBus
        self.migrated = migrated
    }

    /// The same database (and write queue) reached through another `SQLDatabase`, e.g. one that observes statements.
    func wrapping(_ sql: (any SQLDatabase) -> any SQLDatabase) -> Database {
        Database(
            sql: sql(self.sql), dialect: self.dialect, retryPolicy: self.retryPolicy, writeGate: self.writeGate, reachability: self.reachability,
            eventBus: self.eventBus, migrated: self.migrated)
    }

    /// Runs `body` in a write transaction on one connection, committing if it returns and rolling back if it throws.
    ///
    /// Serialization failures, deadlocks and SQLite busy errors roll back and run the whole body again, a bounded
    /// number of times, so `body` must touch nothing but the database it is handed. When retries run out, or the
    /// database is unreachable, the error surfaces as ``DatabaseUnavailable`` (answered `503`).
    ///
    /// Events the body appended to the outbox (``EventOutbox``) reach streams only after the commit (``announce(_:)``).
    public func transaction<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        var attempt = 1
        while true {
            do {
                // One per attempt: a rolled-back attempt's events never happened.
                let pending = PendingEvents()
                let result = try await self.inGate { try await self.sql.withSession { connection in
                    try await connection.raw(self.dialect.beginWrite).run()
                    let result: R
                    do {
                        result = try await PendingEvents.$current.withValue(pending) { try await body(connection) }
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
                await self.announce(pending.all)
                return result
            } catch {
                switch DatabaseFailure(error) {
                case .retryable where attempt < self.retryPolicy.maxAttempts:
                    try await Task.sleep(for: self.retryPolicy.backoff(attempt: attempt))
                    attempt += 1
                case .retryable:
                    throw DatabaseUnavailable(.retriesExhausted)
                case .unavailable:
                    throw error as? DatabaseUnavailable ?? DatabaseUnavailable(.connectionLost)
                case .uniqueViolation, .other:
                    throw error
                }
            }
        }
    }
}

extension Database {
    /// The channel every instance's ``PostgresEventListener`` listens on.
    static let eventChannel = "reelbase_events"

    /// Tells the streams of `users` that their outbox grew, once the transaction that grew it has committed: on SQLite
    /// this process's streams (one process owns the file); on PostgreSQL every instance's, by `NOTIFY` after the commit.
    ///
    /// Not inside the transaction: a `NOTIFY` there takes PostgreSQL's one notification lock at commit while the
    /// transaction still holds its row locks, and under load the queue of follows on one user's row became a convoy
    /// behind it (measured in the full suite: 360 concurrent follows took over 100 s instead of 5 s and answered 503;
    /// with the `NOTIFY` after the commit they pass). A crash
    /// between the commit and this `NOTIFY` only delays the events: every stream also reads its outbox at each heartbeat.
    func announce(_ users: Set<UUID>) async {
        guard !users.isEmpty else { return }
        switch self.dialect {
        case .sqlite:
            self.eventBus.wake(users)
        case .postgres:
            for user in users {
                _ = try? await self.sql.raw("SELECT pg_notify(\(bind: Self.eventChannel), \(bind: user.lowercased))").run()
            }
        }
    }

    /// Whether the database answers a trivial query (the readiness probe). While the server is known unreachable the
    /// answer is `false` at once: an orchestrator's probe gives up after a second or so.
    func isReachable() async -> Bool {
        if self.reachability?.isKnownUnreachable == true { return false }
        return (try? await self.sql.raw("SELECT 1").run()) != nil
    }

    fileprivate func inGate<R: Sendable>(_ body: @Sendable () async throws -> R) async throws -> R {
        guard let writeGate else { return try await body() }
        return try await writeGate.withGate(body)
    }
}

/// This process's view of whether its database server can be reached, kept by the pool that connects to it.
protocol DatabaseReachability: Sendable {
    /// A recent attempt to connect failed and none has succeeded since: requests answer `503` without waiting.
    var isKnownUnreachable: Bool { get }
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
