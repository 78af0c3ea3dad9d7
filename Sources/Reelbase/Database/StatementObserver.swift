import Logging
import NIOCore
import SQLKit

/// Sees the SQL text of every statement the application sends. Tests install one to count statements per
/// request (e.g. that a batch check is one statement whatever the number of ids); the server never does.
public typealias StatementObserver = @Sendable (String) -> Void

/// An `SQLDatabase` that reports each statement to a ``StatementObserver`` and forwards it unchanged.
/// It forwards `withSession` too, wrapping the session's connection, so transactions keep one connection.
struct ObservedSQLDatabase: SQLDatabase {
    let base: any SQLDatabase
    let observer: StatementObserver

    var logger: Logger { self.base.logger }
    var eventLoop: any EventLoop { self.base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { self.base.version }
    var dialect: any SQLDialect { self.base.dialect }
    var queryLogLevel: Logger.Level? { self.base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        self.observer(self.base.serialize(query).sql)
        return self.base.execute(sql: query, onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        self.observer(self.base.serialize(query).sql)
        try await self.base.execute(sql: query, onRow)
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await self.base.withSession { connection in
            try await closure(ObservedSQLDatabase(base: connection, observer: self.observer))
        }
    }
}

extension Database {
    /// The same database, reporting every statement to `observer`.
    func observed(by observer: @escaping StatementObserver) -> Database {
        self.wrapping { ObservedSQLDatabase(base: $0, observer: observer) }
    }
}
