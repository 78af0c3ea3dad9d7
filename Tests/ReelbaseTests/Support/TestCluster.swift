import Foundation

/// A PostgreSQL server of one test's own (`scripts/pg.sh`), for tests that stop it or start it with settings of
/// their own. `with` gives it a fresh directory (for certificates and the like) and always stops and removes it.
struct TestCluster: Sendable {
    let script: String
    let directory: String
    let port: Int

    var dataDirectory: String { self.directory + "/cluster" }

    static func with<R: Sendable>(_ body: @Sendable (TestCluster) async throws -> R) async throws -> R {
        guard let script = ProcessInfo.processInfo.environment["REELBASE_TEST_PG_SCRIPT"] else {
            throw TestSetupError("REELBASE_TEST_PG_SCRIPT is not set: run the tests with scripts/test.sh")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reelbase-cluster-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Under root the server runs as `postgres`, which must reach the data directory inside.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        let cluster = TestCluster(script: script, directory: directory, port: Int.random(in: 55_000...57_000))
        let result: Result<R, any Error>
        do {
            result = .success(try await body(cluster))
        } catch {
            result = .failure(error)
        }
        try? await cluster.stop()
        try? FileManager.default.removeItem(atPath: directory)
        return try result.get()
    }

    /// Starts (creating on first use) the server, returning once it accepts connections.
    func start(_ settings: [String] = []) async throws {
        let options = (["fsync=off"] + settings).map { "-c '\($0)'" }.joined(separator: " ")
        try await TestShell.run("bash '\(self.script)' start '\(self.dataDirectory)' \(self.port) \(options) >/dev/null")
    }

    /// Stops the server (fast shutdown), returning once it is down.
    func stop() async throws {
        try await TestShell.run("bash '\(self.script)' stop '\(self.dataDirectory)' >/dev/null")
    }

    func url(host: String = "127.0.0.1", query: String = "") -> String {
        "postgres://postgres@\(host):\(self.port)/postgres\(query)"
    }
}

enum TestShell {
    /// Runs `command` with `system(3)` on a thread of its own. Foundation's `Process.waitUntilExit` needs a run loop that
    /// Swift Testing's threads do not spin; and a blocking call on the cooperative pool would stall other tests' tasks
    /// (and the app under test) while it runs.
    static func run(_ command: String) async throws {
        let status = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: system(command)) }.start()
        }
        guard status == 0 else { throw TestSetupError("\(command) exited with status \(status)") }
    }
}
