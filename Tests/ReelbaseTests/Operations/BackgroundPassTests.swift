import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import Reelbase

/// `serve`'s background passes start beside the server, whose migrations run as it starts.
@Suite("Background passes: none before the start-up migrations")
struct BackgroundPassTests {
    @Test(arguments: TestDatabase.allCases)
    func theSweeperWaitsForTheMigrationsThenSweeps(_ database: TestDatabase) async throws {
        try await TestApp.withFreshDatabase(database) { url in
            try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { unobserved in
                let statements = NIOLockedValueBox<[String]>([])
                let db = unobserved.observed { sql in statements.withLockedValue { $0.append(sql) } }
                let sweeper = EffectJobSweeper(jobs: EffectJobStore(database: db, ledger: CreditLedger(dialect: db.dialect)), timeout: .seconds(4), logger: TestApp.logger)
                let running = Task { try await sweeper.run() }
                defer { running.cancel() }

                try await Task.sleep(for: .milliseconds(300))
                #expect(statements.withLockedValue { $0 }.isEmpty, "the sweeper ran before the schema was there")

                try await Migrator(database: unobserved, logger: TestApp.logger).migrate()
                let deadline = ContinuousClock.now + .seconds(5)
                while !statements.withLockedValue({ $0.contains { $0.contains("FROM effect_jobs") } }), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(statements.withLockedValue { $0.contains { $0.contains("FROM effect_jobs") } }, "no sweep after the migrations")
            }
        }
    }
}
