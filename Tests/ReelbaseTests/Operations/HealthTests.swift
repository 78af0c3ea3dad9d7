import Foundation
import Testing

@testable import Reelbase

@Suite("Operations: health, readiness, database outages")
struct HealthTests {
    @Test(arguments: TestDatabase.allCases)
    func healthAndReadiness(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let health = try await client.get("/healthz")
            #expect(health.status == .ok)
            #expect(health.text == #"{"status":"ok"}"#)
            let ready = try await client.get("/readyz")
            #expect(ready.status == .ok)
        }
    }

    /// Stops a dedicated PostgreSQL under a running app: requests answer 503 quickly, then recover on their own.
    @Test func postgresOutageAnswers503AndRecovers() async throws {
        guard let script = ProcessInfo.processInfo.environment["REELBASE_TEST_PG_SCRIPT"] else {
            throw TestSetupError("REELBASE_TEST_PG_SCRIPT is not set: run the tests with scripts/test.sh")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reelbase-outage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        let cluster = directory.appendingPathComponent("cluster").path
        let port = Int.random(in: 55_000...56_000)
        defer {
            _ = try? runScript(script, ["stop", cluster])
            try? FileManager.default.removeItem(at: directory)
        }
        try runScript(script, ["start", cluster, "\(port)", "-c", "fsync=off"])

        let configuration = try TestApp.configuration(databaseURL: "postgres://postgres@127.0.0.1:\(port)/postgres", settings: [:])
        let app = try await buildApplication(configuration: configuration, logger: TestApp.logger)
        try await app.test(.router) { raw in
            let client = TestClient(client: raw)
            let user = try await client.register()
            #expect(try await client.get("/readyz").status == .ok)

            try runScript(script, ["stop", cluster])
            let started = ContinuousClock.now
            let down = try await client.get("/v1/users/me", token: user.accessToken)
            try down.expectProblem(503, code: "database_unavailable")
            #expect(down.headers[.retryAfter] != nil)
            #expect(ContinuousClock.now - started < .seconds(10))
            try await client.get("/readyz").expectProblem(503, code: "database_unavailable")

            try runScript(script, ["start", cluster, "\(port)", "-c", "fsync=off"])
            var recovered = false
            for _ in 0..<60 where !recovered {
                recovered = try await client.get("/readyz").status == .ok
                if !recovered { try await Task.sleep(for: .milliseconds(500)) }
            }
            #expect(recovered)
            #expect(try await client.get("/v1/users/me", token: user.accessToken).status == .ok)
        }
    }

    /// Runs `scripts/pg.sh` with `system(3)`: Foundation's `Process.waitUntilExit` needs a run loop that
    /// Swift Testing's threads do not spin, and never returns there.
    private func runScript(_ script: String, _ arguments: [String]) throws {
        let command = ([script] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let status = system("bash \(command) >/dev/null")
        guard status == 0 else { throw TestSetupError("\(command) exited with status \(status)") }
    }
}
