import Synchronization
import Testing

@testable import Reelbase

/// Records the SQL statements an app sends (``TestApp/run(_:settings:statements:_:)``), to count them per request.
final class StatementLog: Sendable {
    private let statements = Mutex<[String]>([])

    var observer: StatementObserver {
        { sql in self.statements.withLock { $0.append(sql) } }
    }

    /// The statements recorded since the last call, oldest first.
    func drain() -> [String] {
        self.statements.withLock { statements in
            defer { statements.removeAll() }
            return statements
        }
    }

    /// Like ``drain()`` after one authenticated request: expects exactly one session check among the statements
    /// (``BearerAuthMiddleware``'s lookup, the constant cost API.md keeps apart) and returns the others.
    func drainAuthenticated(sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        let statements = self.drain()
        let isSessionCheck = { (sql: String) in sql.contains("FROM sessions s JOIN users u") }
        #expect(statements.filter(isSessionCheck).count == 1, "\(statements)", sourceLocation: sourceLocation)
        return statements.filter { !isSessionCheck($0) }
    }
}
