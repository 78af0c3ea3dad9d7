import Synchronization

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
}
