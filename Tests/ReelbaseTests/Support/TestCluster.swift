import Foundation

@testable import Reelbase

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
        let cluster = TestCluster(script: script, directory: directory, port: try Self.freePort())
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
        try await TestShell.run("bash '\(self.script)' start '\(self.dataDirectory)' \(self.port) \(options)")
    }

    /// Stops the server (fast shutdown), returning once it is down.
    func stop() async throws {
        try await TestShell.run("bash '\(self.script)' stop '\(self.dataDirectory)'")
    }

    func url(host: String = "127.0.0.1", query: String = "") -> String {
        "postgres://postgres@\(host):\(self.port)/postgres\(query)"
    }

    /// A port free now and below the kernel's ephemeral range (32768 and up): there, outgoing connections take ports
    /// at random (here about one in twelve of 55000-57000 was in use), also while a test has its server stopped.
    private static func freePort() throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20_000...32_000)
            if Self.isFree(port) { return port }
        }
        throw TestSetupError("no free port between 20000 and 32000 for a test cluster")
    }

    private static func isFree(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

enum TestShell {
    /// How long any command of a test may run: `pg.sh` waits up to 60 s for a server itself.
    static let limit: Duration = .seconds(90)

    /// Runs `command` with `bash -c` through ``ChildProcess``, the way the effect worker runs its commands (one
    /// mechanism in the process: `system(3)` beside Foundation's `Process` lets either child inherit the other's
    /// descriptors); standard output is discarded, standard error is the test's.
    static func run(_ command: String) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let status = try await ChildProcess.run(process, limit: Self.limit)
        guard status == 0 else { throw TestSetupError("\(command) exited with status \(status)") }
    }
}
