import Foundation
import Logging
import NIOSSL
import PostgresNIO
import ServiceLifecycle

/// Opens the database named by a ``DatabaseURL``, with the service that keeps its pool alive for the
/// application's lifetime and closes it on shutdown.
enum DatabaseConnector {
    /// How long a request waits for a pooled connection before answering `503 database_unavailable`.
    static let leaseTimeout: Duration = .seconds(5)

    static func connect(_ url: DatabaseURL, poolSize: Int? = nil, logger: Logger) throws -> (Database, any Service) {
        var queryLogger = logger
        queryLogger[metadataKey: "component"] = "sql"
        switch url {
        case .sqlite(let path):
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // Four connections per event loop: one writer at a time (SQLite's rule) with readers beside it.
            let pool = SQLitePool(
                path: path, connectionsPerEventLoop: 4, leaseTimeout: leaseTimeout, logger: queryLogger, queryLogLevel: .trace)
            return (Database(sql: pool, dialect: .sqlite), SQLitePoolService(pool: pool))
        case .postgres(let host, let port, let username, let password, let database, let requireTLS):
            var configuration = PostgresClient.Configuration(
                host: host,
                port: port,
                username: username,
                password: password,
                database: database,
                tls: requireTLS ? .require(.makeClientConfiguration()) : .disable
            )
            // A few busy connections per core beat many idle ones: Postgres runs one process per connection,
            // and with several instances sharing one server the sum must stay under its max_connections.
            let cores = ProcessInfo.processInfo.activeProcessorCount
            configuration.options.maximumConnections = poolSize ?? max(8, 4 * cores)
            // Kept open so the first requests after start do not pay for connecting.
            configuration.options.minimumConnections = min(cores, configuration.options.maximumConnections - 1)
            configuration.options.connectTimeout = .seconds(3)
            // No keep-alive statements: postgres-nio's pool writes them from its own task, and one that races the
            // pool's shutdown can leave the shutdown waiting forever (measured: with a 2 ms keep-alive, 3 clients in a
            // few hundred never stopped; none without). A connection the server closes is seen at once (its socket
            // ends) and replaced; a statement on a closed connection fails as unavailable (``OpenConnectionStatements``).
            configuration.options.keepAliveBehavior = nil
            let client = PostgresClient(configuration: configuration, backgroundLogger: queryLogger)
            let sql = PostgresClientDatabase(client: client, logger: queryLogger, leaseTimeout: leaseTimeout, queryLogLevel: .trace)
            return (Database(sql: sql, dialect: .postgres), client)
        }
    }
}

/// Keeps the SQLite pool open until graceful shutdown, then closes it (after the HTTP server has drained).
struct SQLitePoolService: Service {
    let pool: SQLitePool

    func run() async throws {
        try? await gracefulShutdown()
        try await self.pool.shutdown()
    }
}

extension DatabaseConnector {
    /// Opens the database, runs `body` with its pool running, and closes it: for commands other than `serve`.
    static func withDatabase<R: Sendable>(
        _ url: DatabaseURL,
        logger: Logger,
        _ body: @escaping @Sendable (Database) async throws -> R
    ) async throws -> R {
        let (database, service) = try connect(url, logger: logger)
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], logger: logger)
        return try await withThrowingTaskGroup(of: R?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            let result: Result<R, any Error>
            do {
                result = .success(try await body(database))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }
}
