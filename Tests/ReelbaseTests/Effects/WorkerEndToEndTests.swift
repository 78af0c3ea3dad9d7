import ArgumentParser
import Foundation
import Testing

@testable import Reelbase

@Suite("Effects: reelbase worker end to end")
struct WorkerEndToEndTests {
    /// A live server, `reelbase worker` (the command, parsed from its arguments) with a shell script:
    /// one job succeeds with the script's last line, one fails and is refunded.
    @Test(arguments: TestDatabase.allCases)
    func workerRunsTheCommandAndReports(_ database: TestDatabase) async throws {
        try await TestApp.withFreshDatabase(database) { url in
            let configuration = try TestApp.configuration(databaseURL: url, settings: [:])
            let app = try await buildApplication(configuration: configuration, logger: TestApp.logger)
            try await LiveServer.run(app, databaseURL: url) { client, port in
                try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                    let admin = try await client.registerAdmin()
                    let user = try await client.register()
                    #expect(try await client.purchase(user, package: "starter_100").status == .ok)
                    let video = try await client.createVideo(user)

                    let good = try await client.createJob(user, video: video).decode(API.JobAccepted.self).jobId
                    // The script fails if any variable of its environment holds the worker's --service-key.
                    try await Self.runWorker(
                        port: port,
                        script: #"env | grep -q test-service-key && exit 9; echo "rendering $EFFECT_ID for $JOB_ID from $VIDEO_URL"; echo "https://cdn.example.com/out/$JOB_ID.mp4""#)
                    let done = try await client.get("/v1/effects/jobs/\(good)", token: user.accessToken).decode(API.Job.self)
                    #expect(done.status == "succeeded")
                    #expect(done.outputUrl == "https://cdn.example.com/out/\(good).mp4")
                    #expect(try await client.balance(user).balance == 90)

                    let bad = try await client.createJob(user, video: video).decode(API.JobAccepted.self).jobId
                    #expect(try await client.balance(user).balance == 80)
                    try await Self.runWorker(port: port, script: #"echo "model weights missing" >&2; exit 3"#)
                    let failed = try await client.get("/v1/effects/jobs/\(bad)", token: user.accessToken).decode(API.Job.self)
                    #expect(failed.status == "failed")
                    #expect(failed.error?.contains("model weights missing") == true)
                    #expect(try await client.balance(user).balance == 90)
                    #expect(try await client.audit(admin: admin).mismatches.isEmpty)
                }
            }
        }
    }

    static func runWorker(port: Int, script: String) async throws {
        var command = try ReelbaseCommand.parseAsRoot([
            "worker", "--server", "http://127.0.0.1:\(port)", "--service-key", "test-service-key",
            "--exec", script, "--max-jobs", "1", "--log-level", "critical",
        ])
        guard var worker = command as? any AsyncParsableCommand else { throw TestSetupError("worker is not async") }
        try await worker.run()
        command = worker
    }
}
