import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit

/// SQLKit over postgres-nio's `PostgresClient` pool (postgres-kit 2.17 ships no such wrapper).
///
/// Every statement leases a pooled connection; `withSession` keeps one for a whole closure (transactions). Leases
/// are bounded and fail fast in an outage: see ``PostgresPool``.
struct PostgresClientDatabase: SQLDatabase {
    let pool: PostgresPool
    let logger: Logger
    let queryLogLevel: Logger.Level?

    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var dialect: any SQLDialect { PostgresDialect() }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        let promise = self.eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await self.execute(sql: query, onRow) }
        return promise.futureResult
    }

    /// A statement on its own, on a connection leased for it.
    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try await self.pool.withConnection { connection in
            try await self.statements(on: connection).execute(sql: query, onRow)
        }
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await self.pool.withConnection { connection in
            ResultTransfer(value: try await closure(self.statements(on: connection)))
        }.value
    }

    private func statements(on connection: PostgresConnection) -> OpenConnectionStatements {
        OpenConnectionStatements(connection: connection, base: connection.sql(queryLogLevel: self.queryLogLevel, logger: self.logger))
    }
}

/// The statements of one leased connection, each written from the connection's event loop once it has checked there
/// that the connection is still open; a closed one fails the statement with ``DatabaseUnavailable``.
///
/// postgres-nio never answers a statement written after the connection's channel closed: the write fails with no
/// one told, and the statement waits forever (the fix, vapor/postgres-nio#487, was reverted). A connection closes under
/// a lease when the server goes away or a pool shuts down, and the `ROLLBACK` that follows a failed statement is then
/// always late; with the lease granted, no timer cuts the wait short. On the event loop nothing can close the channel
/// between the check and the write, which reaches the connection's handler at once, and the handler fails whatever
/// it holds when the connection closes later.
struct OpenConnectionStatements: SQLDatabase {
    let connection: PostgresConnection
    let base: any SQLDatabase

    var logger: Logger { self.base.logger }
    var eventLoop: any EventLoop { self.connection.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { self.base.version }
    var dialect: any SQLDialect { self.base.dialect }
    var queryLogLevel: Logger.Level? { self.base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        self.connection.eventLoop.flatSubmit {
            do {
                try self.refuseIfClosed()
            } catch {
                return self.connection.eventLoop.makeFailedFuture(error)
            }
            return self.base.execute(sql: query, onRow)
        }
    }

    /// Throws ``DatabaseUnavailable`` if the connection has closed. Only on the connection's event loop, right before
    /// the statement is written, does a pass mean the statement will be answered (prepared ones check here too).
    func refuseIfClosed() throws {
        self.connection.eventLoop.assertInEventLoop()
        guard !self.connection.isClosed else {
            self.logger.warning("statement refused: its connection has closed")
            throw DatabaseUnavailable(.connectionClosed)
        }
    }

    /// Prepared once per connection when it has parameters (``PostgresPreparedStatements``), in a transaction or not.
    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        let (sql, binds) = self.serialize(query)
        let ran = try await PostgresPreparedStatements.shared.run(
            sql, binds: binds, on: self, logger: self.logger, queryLogLevel: self.queryLogLevel, onRow)
        if !ran { try await self.execute(sql: query, onRow).get() }
    }
}

/// Carries a session's result out of the child task that leased the connection. SQLKit's `withSession` does
/// not require results to be `Sendable`; the value is handed over once, when that task ends, and never shared.
private struct ResultTransfer<Value>: @unchecked Sendable {
    var value: Value
}
