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

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try await self.pool.withConnection { connection in
            try await connection.sql(queryLogLevel: self.queryLogLevel, logger: self.logger).execute(sql: query, onRow)
        }
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await self.pool.withConnection { connection in
            ResultTransfer(value: try await closure(connection.sql(queryLogLevel: self.queryLogLevel, logger: self.logger)))
        }.value
    }
}

/// Carries a session's result out of the child task that leased the connection. SQLKit's `withSession` does
/// not require results to be `Sendable`; the value is handed over once, when that task ends, and never shared.
private struct ResultTransfer<Value>: @unchecked Sendable {
    var value: Value
}
