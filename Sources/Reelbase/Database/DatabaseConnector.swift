import Foundation
import Logging
import NIOSSL
import PostgresNIO
import ServiceLifecycle

/// Opens the database named by a ``DatabaseURL``, with the service that keeps its pool alive for the
/// application's lifetime and closes it on shutdown.
enum DatabaseConnector {
    /// How long a request waits for a pooled connection before answering `503 database_unavailable` (while the server
    /// is not known unreachable; see ``PostgresPool``).
    static let leaseTimeout: Duration = .seconds(5)
    /// How long the pool may take to open one PostgreSQL connection, TCP and start-up.
    static let connectTimeout: Duration = .seconds(3)

    static func connect(_ url: DatabaseURL, poolSize: Int? = nil, logger: Logger) throws -> (Database, any Service) {
        var queryLogger = logger
        queryLogger[metadataKey: "component"] = "sql"
        switch url {
        case .sqlite(let path):
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try createPrivateFile(path)
            // Four connections per event loop: one writer at a time (SQLite's rule) with readers beside it.
            let pool = SQLitePool(
                path: path, connectionsPerEventLoop: 4, leaseTimeout: leaseTimeout, logger: queryLogger, queryLogLevel: .trace)
            return (Database(sql: pool, dialect: .sqlite), SQLitePoolService(pool: pool))
        case .postgres(let host, let port, let username, let password, let database, let tls):
            let tlsConfiguration = tls.configuration
            var configuration = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database,
                tls: tlsConfiguration.map { .require($0) } ?? .disable
            )
            // A few busy connections per core beat many idle ones: Postgres runs one process per connection,
            // and with several instances sharing one server the sum must stay under its max_connections (count one more
            // per instance: the connection ``PostgresPool`` checks the server on).
            let cores = ProcessInfo.processInfo.activeProcessorCount
            configuration.options.maximumConnections = poolSize ?? max(8, 4 * cores)
            // Kept open so the first requests after start do not pay for connecting.
            configuration.options.minimumConnections = min(cores, configuration.options.maximumConnections - 1)
            configuration.options.connectTimeout = connectTimeout
            // No keep-alive statements: postgres-nio's pool writes them from its own task, and one that races the
            // pool's shutdown can leave the shutdown waiting forever (measured: with a 2 ms keep-alive, 3 clients in a
            // few hundred never stopped; none without). A connection the server closes is seen at once (its socket
            // ends) and replaced; a statement on a closed connection fails as unavailable (``OpenConnectionStatements``).
            // The server itself is checked by ``PostgresPool``'s probe, on a connection of its own.
            configuration.options.keepAliveBehavior = nil
            var probe = try connectionConfiguration(url)
            // A probe that times out (connecting, or its `SELECT 1`) marks the server unreachable; allowing it the lease
            // timeout means a slow server is never declared down sooner than a waiting request would have given up on it.
            probe.options.connectTimeout = TimeAmount(leaseTimeout)
            let pool = PostgresPool(client: configuration, probe: probe, leaseTimeout: leaseTimeout, logger: queryLogger)
            let sql = PostgresClientDatabase(pool: pool, logger: queryLogger, queryLogLevel: .trace)
            return (Database(sql: sql, dialect: .postgres, reachability: pool), pool)
        }
    }

    /// One PostgreSQL connection of its own (not pooled) to the server of `url`: the pool's probe, the event listener.
    static func connectionConfiguration(_ url: DatabaseURL) throws -> PostgresConnection.Configuration {
        guard case .postgres(let host, let port, let username, let password, let database, let tls) = url else {
            throw ConfigurationError("DATABASE_URL: not a PostgreSQL URL")
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: try tls.configuration.map { .require(try sslContext($0)) } ?? .disable
        )
    }

    /// What wakes `database`'s event streams when another instance commits events: on PostgreSQL a listener on a
    /// connection of its own; on SQLite nothing (one process; its transactions wake its streams themselves).
    static func eventListener(for url: DatabaseURL, database: Database, logger: Logger) throws -> (any Service)? {
        guard case .postgres = url else { return nil }
        var configuration = try connectionConfiguration(url)
        configuration.options.connectTimeout = TimeAmount(connectTimeout)
        // Named, so that an operator (or a test) can find it in pg_stat_activity.
        configuration.options.additionalStartupParameters = [("application_name", PostgresEventListener.applicationName)]
        return PostgresEventListener(configuration: configuration, bus: database.eventBus, logger: logger)
    }

    /// Creates the SQLite file readable by its owner only, before SQLite opens it: SQLite gives its `-wal` and `-shm`
    /// files the database file's mode. An existing file keeps the mode its operator gave it.
    static func createPrivateFile(_ path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
        } else if errno != EEXIST {
            throw ConfigurationError("DATABASE_URL: cannot create the SQLite file '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    /// A certificate file that is no PEM is a setting that cannot work: refuse it at start-up, naming it.
    private static func sslContext(_ configuration: TLSConfiguration) throws -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError("DATABASE_URL sslrootcert cannot be used: \(error)")
        }
    }
}

extension PostgresTLSMode {
    /// The TLS client settings for this mode, `nil` for plaintext.
    var configuration: TLSConfiguration? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch self {
        case .disable:
            return nil
        case .require:
            configuration.certificateVerification = .none
        case .verifyCA(let file):
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = file.map { .file($0) } ?? .default
        case .verifyFull(let file):
            configuration.certificateVerification = .fullVerification
            configuration.trustRoots = file.map { .file($0) } ?? .default
        }
        return configuration
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
        poolSize: Int? = nil,
        logger: Logger,
        _ body: @escaping @Sendable (Database) async throws -> R
    ) async throws -> R {
        let (database, service) = try connect(url, poolSize: poolSize, logger: logger)
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
