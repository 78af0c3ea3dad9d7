@preconcurrency import AsyncKit
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO

/// Opens SQLite connections with the settings every connection needs (sqlite-kit only sets foreign keys).
struct SQLiteTunedConnectionSource: ConnectionPoolSource {
    let path: String
    let threadPool: NIOThreadPool
    /// Whether a connection of this pool has switched the file to WAL. The mode is stored in the file, so only
    /// the first connection (opened by the migrator, before any concurrency) sets it: asking for it again on a
    /// connection opened under load can fail with "database is locked" without waiting in `busy_timeout`.
    let writeAheadLogEnabled = NIOLockedValueBox(false)
    /// Opens under way, and connections whose open ended after the pool began to shut down (see ``SQLitePool/shutdown()``).
    let opens = OpensUnderWay()

    /// A connection opened while another one recovers the WAL index can meet SQLITE_BUSY before its
    /// `busy_timeout` is in force; opening again a moment later succeeds.
    private static let openAttempts = 3

    func makeConnection(logger: Logger, on eventLoop: any EventLoop) -> EventLoopFuture<SQLiteConnection> {
        let connection = self.open(logger: logger, on: eventLoop, attempt: 1)
        self.opens.track(connection)
        return connection
    }

    private func open(logger: Logger, on eventLoop: any EventLoop, attempt: Int) -> EventLoopFuture<SQLiteConnection> {
        self.openTuned(logger: logger, on: eventLoop).flatMapError { error in
            guard attempt < Self.openAttempts, case .retryable = DatabaseFailure(error) else {
                return eventLoop.makeFailedFuture(error)
            }
            return eventLoop.scheduleTask(in: .milliseconds(50 * Int64(attempt))) {}.futureResult
                .flatMap { self.open(logger: logger, on: eventLoop, attempt: attempt + 1) }
        }
    }

    private func openTuned(logger: Logger, on eventLoop: any EventLoop) -> EventLoopFuture<SQLiteConnection> {
        SQLiteConnection.open(storage: .file(path: self.path), threadPool: self.threadPool, logger: logger, on: eventLoop)
            .flatMap { connection in
                // busy_timeout first: it makes a waiting connection sleep instead of failing or spinning
                // (sqlite-nio's own busy handler never sleeps). WAL lets readers run beside the one writer.
                var pragmas = ["PRAGMA busy_timeout = 5000"]
                if !self.writeAheadLogEnabled.withLockedValue({ $0 }) {
                    pragmas.append("PRAGMA journal_mode = WAL")
                }
                pragmas += ["PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"]
                return pragmas.reduce(eventLoop.makeSucceededVoidFuture()) { chain, pragma in
                    chain.flatMap { connection.query(pragma).map { _ in } }
                }
                .flatMapError { error in connection.close().flatMapThrowing { throw error } }
                .map {
                    self.writeAheadLogEnabled.withLockedValue { $0 = true }
                    return connection
                }
            }
    }
}

/// A pool of SQLite connections presented as one `SQLDatabase`.
///
/// sqlite-nio runs every statement on a blocking thread pool. A writer waiting for the lock occupies a thread
/// while it sleeps in `busy_timeout`, so the pool gets its own thread pool with one thread per connection:
/// with fewer threads than connections, waiting writers can take every thread and the lock holder never runs.
final class SQLitePool: SQLDatabase, Sendable {
    let logger: Logger
    let queryLogLevel: Logger.Level?
    private let pool: EventLoopGroupConnectionPool<SQLiteTunedConnectionSource>
    private let source: SQLiteTunedConnectionSource
    private let threadPool: NIOThreadPool
    private let eventLoopGroup: any EventLoopGroup

    var eventLoop: any EventLoop { self.eventLoopGroup.any() }
    var dialect: any SQLDialect { SQLiteDialect() }

    init(path: String, connectionsPerEventLoop: Int, leaseTimeout: Duration, logger: Logger, queryLogLevel: Logger.Level?) {
        self.eventLoopGroup = MultiThreadedEventLoopGroup.singleton
        let loops = Array(self.eventLoopGroup.makeIterator()).count
        self.threadPool = NIOThreadPool(numberOfThreads: loops * connectionsPerEventLoop)
        self.threadPool.start()
        self.source = SQLiteTunedConnectionSource(path: path, threadPool: self.threadPool)
        self.pool = EventLoopGroupConnectionPool(
            source: self.source,
            maxConnectionsPerEventLoop: connectionsPerEventLoop,
            requestTimeout: TimeAmount(leaseTimeout),
            logger: logger,
            on: self.eventLoopGroup
        )
        self.logger = logger
        self.queryLogLevel = queryLogLevel
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        self.pool.withConnection { connection in
            let inUse = Observability.connectionsInUse(.sqlite)
            inUse.increment()
            return connection.sql(queryLogLevel: self.queryLogLevel).execute(sql: query, onRow).always { _ in inUse.decrement() }
        }
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let connection = try await self.pool.requestConnection(logger: self.logger).get()
        let inUse = Observability.connectionsInUse(.sqlite)
        inUse.increment()
        defer {
            inUse.decrement()
            self.pool.releaseConnection(connection, logger: self.logger)
        }
        return try await closure(connection.sql(queryLogLevel: self.queryLogLevel))
    }

    /// Closes every connection, then stops the thread pool.
    ///
    /// The connection pool's shutdown closes the connections it holds but not those still opening: one that opens
    /// afterwards is closed by a `close()` nobody waits for, which runs on the thread pool. Stopped first, the thread
    /// pool refuses that work and the connection is freed open (sqlite-nio asserts on it: a test process crashed so,
    /// in 2 of 7 full runs of a branch whose sweeper leased connections at short intervals). So the opens under way
    /// finish, and those that ended late are closed here, before the thread pool stops. A second `close()` of one
    /// connection does nothing.
    func shutdown() async throws {
        self.source.opens.beginShutdown()
        try await self.pool.shutdownAsync()
        for connection in await self.source.opens.lateConnections() {
            try? await connection.close().get()
        }
        try await self.threadPool.shutdownGracefully()
    }
}

/// The connection opens of one ``SQLiteTunedConnectionSource`` that are under way, and the connections whose open ended
/// once shutdown had begun.
final class OpensUnderWay: Sendable {
    private struct State {
        var next = 0
        var underWay: [Int: EventLoopFuture<SQLiteConnection>] = [:]
        var shuttingDown = false
        var late: [SQLiteConnection] = []
    }

    private let state = NIOLockedValueBox(State())

    func track(_ open: EventLoopFuture<SQLiteConnection>) {
        let id = self.state.withLockedValue { state in
            state.next += 1
            state.underWay[state.next] = open
            return state.next
        }
        open.whenComplete { result in
            self.state.withLockedValue { state in
                state.underWay[id] = nil
                if state.shuttingDown, case .success(let connection) = result { state.late.append(connection) }
            }
        }
    }

    func beginShutdown() {
        self.state.withLockedValue { $0.shuttingDown = true }
    }

    /// Waits for the opens under way, then answers every connection opened since ``beginShutdown()``.
    func lateConnections() async -> [SQLiteConnection] {
        let underWay = self.state.withLockedValue { Array($0.underWay.values) }
        for open in underWay { _ = try? await open.get() }
        return self.state.withLockedValue { $0.late }
    }
}
