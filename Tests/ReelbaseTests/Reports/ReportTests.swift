import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

@Suite("Reports: users report videos and users, and see their own reports")
struct ReportTests {
    @Test(arguments: TestDatabase.allCases)
    func reportsAreMadeOnceAndListedNewestFirst(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let alice = try await client.register()
            let bob = try await client.register()
            let video = try await client.createVideo(bob)

            let made = try await client.report("video", video.uppercased(), by: alice, category: "violence", comment: "graphic")
            #expect(made.status == .created)
            #expect(try keys(of: made) == reportKeys)
            let report = try made.decode(API.Report.self)
            #expect(report.targetType == "video" && report.targetId == video && report.category == "violence" && report.comment == "graphic")
            #expect(report.status == "open" && report.resolution == nil && report.resolvedAt == nil)

            // A repeat while it is open answers that report, unchanged.
            let repeated = try await client.report("video", video, by: alice, category: "spam", comment: "again")
            #expect(repeated.status == .ok)
            #expect(try repeated.decode(API.Report.self) == report)

            let aboutBob = try await client.newReport("user", bob.id, by: alice, category: "harassment")
            #expect(aboutBob.comment == nil)
            // Someone else's report on the same target is another report.
            let charlie = try await client.register()
            #expect(try await client.newReport("video", video, by: charlie).id != report.id)

            try await client.report("user", alice.id, by: alice).expectProblem(422, code: "validation_failed")
            let own = try await client.report("video", video, by: bob).expectProblem(422, code: "validation_failed")
            #expect(own.errors?.map(\.field) == ["target_id"])
            try await client.report("video", UUID().uuidString, by: alice).expectProblem(404, code: "not_found")
            try await client.report("user", UUID().uuidString, by: alice).expectProblem(404, code: "not_found")
            // A deleted video is no video.
            #expect(try await client.delete("/v1/videos/\(video)", token: bob.accessToken).status == .noContent)
            try await client.report("video", video, by: bob).expectProblem(404, code: "not_found")
            let dave = try await client.register()
            try await client.report("video", video, by: dave).expectProblem(404, code: "not_found")

            let invalid = try await client.post(
                "/v1/reports", token: alice.accessToken,
                json: TestClient.ReportBody(
                    target_type: "comment", target_id: "not-a-uuid", category: "rude", comment: String(repeating: "é", count: 1001)))
            #expect(try invalid.expectProblem(422, code: "validation_failed").errors?.map(\.field) == ["target_type", "target_id", "category", "comment"])
            // Foundation on Linux would read this as a UUID (sscanf takes the `-` as a sign).
            let sloppy = try await client.post(
                "/v1/reports", token: alice.accessToken,
                json: TestClient.ReportBody(target_type: "video", target_id: "1b4e28ba-2fa1-11d2-883f-0016d3cca4-7", category: "spam", comment: nil))
            #expect(try sloppy.expectProblem(422, code: "validation_failed").errors?.map(\.field) == ["target_id"])
            // 1000 code points are fine, however many bytes they take.
            let long = try await client.report("user", charlie.id, by: alice, comment: String(repeating: "👍", count: 1000))
            #expect(long.status == .created)

            let mine = try await client.walk("/v1/reports", as: API.ReportPage.self, limit: 2, token: alice.accessToken, itemKeys: reportKeys)
            #expect(mine.map(\.id) == [try long.decode(API.Report.self).id, aboutBob.id, report.id])
            #expect(try await client.walk("/v1/reports", as: API.ReportPage.self, limit: 5, token: dave.accessToken).isEmpty)
            try await client.get("/v1/reports").expectProblem(401, code: "unauthorized")
            try await client.get("/v1/reports?cursor=garbage", token: alice.accessToken).expectProblem(422, code: "validation_failed")
        }
    }

    /// `report_user` counts reports made; a repeat, or a report refused as `404`/`422`, is none.
    @Test(arguments: TestDatabase.allCases)
    func reportsAreRateLimitedButRepeatsAreNot(_ database: TestDatabase) async throws {
        try await TestApp.run(database, settings: ["rate.limits": "register_ip=1000/1h,report_user=3/1d"]) { client in
            let reporter = try await client.register()
            let own = try await client.createVideo(reporter)
            try await client.report("user", UUID().uuidString, by: reporter).expectProblem(404, code: "not_found")
            try await client.report("video", own, by: reporter).expectProblem(422, code: "validation_failed")
            var targets: [TestClient.User] = []
            for _ in 0..<4 { targets.append(try await client.register()) }
            let first = try await client.newReport("user", targets[0].id, by: reporter)
            _ = try await client.newReport("user", targets[1].id, by: reporter)
            _ = try await client.newReport("user", targets[2].id, by: reporter)

            let limited = try await client.report("user", targets[3].id, by: reporter)
            try limited.expectProblem(429, code: "rate_limited")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 > 0)
            // With the window full, a repeat still answers its report.
            let repeated = try await client.report("user", targets[0].id, by: reporter)
            #expect(repeated.status == .ok)
            #expect(try repeated.decode(API.Report.self) == first)
            // The limit is per reporter.
            let other = try await client.register()
            _ = try await client.newReport("user", targets[3].id, by: other)
        }
    }

    /// Any existing target may be reported, also one hidden from the reporter by a block; not a suspended user, nor a
    /// suspended user's video.
    @Test(arguments: TestDatabase.allCases)
    func blockedTargetsMayBeReportedSuspendedOnesNot(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let admin = try await client.registerAdmin()
            let reporter = try await client.register()
            let blocker = try await client.register()
            let video = try await client.createVideo(blocker)
            let blockerID = try #require(UUID(uuidString: blocker.id))
            let reporterID = try #require(UUID(uuidString: reporter.id))
            try await db.sql.raw(
                "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (\(bind: blockerID), \(bind: reporterID), \(db.dialect.now))"
            ).run()
            _ = try await client.newReport("video", video, by: reporter)
            _ = try await client.newReport("user", blocker.id, by: reporter)

            let suspended = try await client.register()
            let hidden = try await client.createVideo(suspended)
            #expect(try await client.suspend(suspended.id, by: admin).status == .ok)
            try await client.report("user", suspended.id, by: reporter).expectProblem(404, code: "not_found")
            try await client.report("video", hidden, by: reporter).expectProblem(404, code: "not_found")
        }
    }
}
