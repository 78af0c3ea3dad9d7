import Foundation
import Testing

@testable import Reelbase

@Suite("Database: a connection lost under a lease")
struct ConnectionLossTests {
    /// The server ends the connection a transaction holds, as a restart or an administrator does. The transaction
    /// answers ``DatabaseUnavailable`` (503): its `ROLLBACK`, written after the connection closed, used to wait
    /// forever, because postgres-nio never answers a statement written to a closed connection; that hung one full
    /// suite run in several (issue 12, item 10). PostgreSQL's: SQLite connections are files that no server ends.
    @Test func aTransactionWhoseConnectionTheServerEndsIsUnavailable() async throws {
        try await TestApp.withFreshDatabase(.postgres) { url in
            try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                await #expect(throws: DatabaseUnavailable.self) {
                    try await db.transaction { connection in
                        do {
                            try await connection.raw("SELECT pg_terminate_backend(pg_backend_pid())").run()
                        } catch {
                            // Let the connection finish closing before the transaction's ROLLBACK is written.
                            try await Task.sleep(for: .milliseconds(300))
                            throw error
                        }
                    }
                }
                // The pool replaces the lost connection: the next statement runs.
                let one = try await db.sql.raw("SELECT 1 AS one").first(decodingColumn: "one", as: Int.self)
                #expect(one == 1)
            }
        }
    }
}
