import Foundation
import Testing

@testable import Reelbase

@Suite("App start-up: a server that cannot start fails its test")
struct LiveServerStartupTests {
    /// The app's migrations cannot reach the database, so start-up throws before the server listens. The test must
    /// fail with that error: HummingbirdTesting's `.live` waited for the port forever instead, which stalled a full
    /// suite run when a loaded machine made the migrations' lease time out (issue 12, item 10).
    @Test(arguments: TestDatabase.allCases)
    func startUpFailureIsThrownNotAwaitedForever(_ database: TestDatabase) async throws {
        // A directory where the SQLite file should be cannot be opened; nothing listens on port 1.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reelbase-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = database == .sqlite ? "sqlite://\(directory.path)" : "postgres://postgres@127.0.0.1:1/postgres"
        let configuration = try TestApp.configuration(databaseURL: url, settings: [:])
        let app = try await buildApplication(configuration: configuration, logger: TestApp.logger)

        await #expect(throws: DatabaseUnavailable.self) {
            try await LiveServer.run(app) { _ in Issue.record("the server listened although it could not migrate") }
        }
    }
}
