import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit

/// Runs a statement with parameters as a named prepared statement, parsed and planned once per connection (and after
/// a few runs, when PostgreSQL finds it no worse, on a generic plan kept for the connection's life) instead of on
/// every run as postgres-nio's unnamed statements are.
///
/// Planning came to dominate the hot reads once visibility joined videos, their owners and blocks into them: the likes
/// check's statement for 100 ids plans in about 0.9 ms and runs in 0.2 ms (measured on a 20,000-user seed-bench set: pgbench,
/// 2 clients, 1,065 statements/s unnamed against 7,587 prepared).
///
/// Statements in transactions too: the money path's transactions run ten to twenty statements each, and parsing and
/// planning every one of them on every run cost more than what credit lots added to a spend (`ab.sh`, effect jobs).
/// postgres-nio remembers a failed preparation for the rest of the connection's life. A preparation fails for a
/// statement that would fail anyway, for a schema that is not there yet (a background pass racing the migrations at
/// start-up), or in a transaction an earlier error aborted (`25P02`); each such error gives the statement a new name,
/// so its next run prepares it again.
struct PostgresPreparedStatements: Sendable {
    /// The one name registry of this process: names stay unique across all its connections and pools.
    static let shared = PostgresPreparedStatements(capacity: 2_000)

    /// Beyond this many distinct statements, new ones run unnamed: a bound on the statements every connection (and
    /// the server, per connection) keeps, should some statement's text ever vary with its values.
    let capacity: Int
    private let names = NIOLockedValueBox(Names())

    private struct Names {
        var byKey: [Key: String] = [:]
        var issued = 0
    }

    /// A statement's text and the types of its parameters: the server fixes the types when it parses the statement,
    /// so the same text with other types (a `NULL` where a value was) is another statement.
    private struct Key: Hashable {
        var sql: String
        var types: [PostgresDataType]
    }

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Runs `sql` with `binds` on the connection of `statements` as a prepared statement and returns `true`, or
    /// returns `false` without running it when it cannot be prepared (no parameters, a value postgres-nio cannot
    /// encode by itself, the registry full): the caller runs it unnamed then.
    func run(
        _ sql: String, binds: [any Encodable & Sendable], on statements: OpenConnectionStatements, logger: Logger,
        queryLogLevel: Logger.Level?, _ onRow: @escaping @Sendable (any SQLRow) -> Void
    ) async throws -> Bool {
        guard !binds.isEmpty, let bindings = Self.bindings(binds) else { return false }
        let key = Key(sql: sql, types: bindings.types)
        guard let name = self.name(for: key) else { return false }
        if let queryLogLevel {
            logger.log(level: queryLogLevel, "Executing prepared statement", metadata: ["sql": .string(sql), "statement": .string(name)])
        }
        let connection = statements.connection
        do {
            // On the connection's event loop from the check to the write, as ``OpenConnectionStatements`` runs its own.
            try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop: connection.eventLoop)) {
                try statements.refuseIfClosed()
                let rows = try await NamedStatement.$running.withValue(NamedStatement.Text(name: name, sql: sql)) {
                    try await connection.execute(NamedStatement(bindings: bindings.bindings), logger: logger)
                }
                for try await row in rows { onRow(PostgresRowReader(row)) }
            }
        } catch let error as PSQLError where Self.invalidatesStatement(error) {
            self.retire(key)
            throw error
        }
        return true
    }

    private func name(for key: Key) -> String? {
        self.names.withLockedValue { names in
            if let name = names.byKey[key] { return name }
            guard names.byKey.count < self.capacity else { return nil }
            names.issued += 1
            let name = "reelbase_\(names.issued)"
            names.byKey[key] = name
            return name
        }
    }

    /// Gives the statement a new name for its next run. The connections keep the old one until they close.
    private func retire(_ key: Key) {
        _ = self.names.withLockedValue { $0.byKey.removeValue(forKey: key) }
    }

    /// Errors after which the connection's statement of that name cannot succeed again: a preparation that failed
    /// (syntax or a missing table or column, class 42; or refused in an aborted transaction, `25P02`) is remembered by
    /// postgres-nio, and a table whose columns changed under a prepared statement fails it at every run (`0A000`,
    /// "cached plan must not change result type").
    private static func invalidatesStatement(_ error: PSQLError) -> Bool {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("42") || state == "0A000" || state == "26000" || state == "25P02"
    }

    /// The binds as postgres-nio encodes them itself (as PostgresKit does for these types), with their types; `nil`
    /// when one is not such a value (a `NULL`, or a type only PostgresKit's `Encodable` path encodes).
    private static func bindings(_ binds: [any Encodable & Sendable]) -> (bindings: PostgresBindings, types: [PostgresDataType])? {
        var bindings = PostgresBindings(capacity: binds.count)
        var types: [PostgresDataType] = []
        types.reserveCapacity(binds.count)
        for bind in binds {
            guard let value = bind as? any PostgresThrowingDynamicTypeEncodable else { return nil }
            do { try bindings.append(value) } catch { return nil }
            types.append(value.psqlType)
        }
        return (bindings, types)
    }
}

/// postgres-nio 1.33 runs named statements only as a `PostgresPreparedStatement`, whose name and text are static: this
/// one's are those of the statement being run, set around the call (postgres-nio reads them when the call starts).
private struct NamedStatement: PostgresPreparedStatement {
    struct Text: Sendable {
        var name: String
        var sql: String
    }

    @TaskLocal static var running = Text(name: "", sql: "")

    static var name: String { running.name }
    static var sql: String { running.sql }

    typealias Row = PostgresRow

    let bindings: PostgresBindings

    func makeBindings() throws -> PostgresBindings { self.bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// Runs a task's jobs on a NIO event loop, so that code awaiting there runs between the loop's own events.
private final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = self.asUnownedTaskExecutor()
        self.eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
