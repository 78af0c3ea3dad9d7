import Foundation
import Testing

@testable import Reelbase

@Suite("Effects: what the worker trusts and passes on")
struct EffectWorkerTests {
    /// A claim answer as the server sends it, with this `job_id`.
    static func view(jobID: String) throws -> JobView {
        let json = #"""
            {"job_id":"\#(jobID)","effect_id":"glitch_animate","video_id":"\#(UUID().lowercased)","status":"running",
            "credits_charged":10,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z",
            "video_url":"https://cdn.example.com/v.mp4"}
            """#
        return try JSONCoding.decoder.decode(JobView.self, from: Data(json.utf8))
    }

    /// The id goes into a URL path and a directory name only once it is a UUID, and then in its own spelling.
    @Test func aClaimedJobIdMustBeAUUID() throws {
        for hostile in ["../../../tmp/owned", "x/../../complete", "", "00000000-0000-0000-0000-00000000000g", "%2e%2e"] {
            #expect(throws: EffectWorker.WorkerError.self, "\(hostile)") { try EffectWorker.ClaimedJob(try Self.view(jobID: hostile)) }
        }
        let id = UUID()
        #expect(try EffectWorker.ClaimedJob(try Self.view(jobID: id.uuidString)).id.lowercased == id.lowercased)
    }

    @Test func theRendererDoesNotGetTheServiceKey() throws {
        let id = UUID()
        let job = try EffectWorker.ClaimedJob(try Self.view(jobID: id.uuidString.uppercased()))
        let environment = EffectWorker.environment(
            for: job,
            inherited: ["PATH": "/usr/bin:/bin", "SERVICE_KEY": "from-env", "WORKER_TOKEN": "from-flag", "JOB_ID": "stale"],
            serviceKey: "from-flag")
        #expect(environment == [
            "PATH": "/usr/bin:/bin", "JOB_ID": id.lowercased, "EFFECT_ID": "glitch_animate", "VIDEO_URL": "https://cdn.example.com/v.mp4",
        ])
    }
}
