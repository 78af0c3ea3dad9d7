import Foundation
import Testing

@testable import Reelbase

@Suite("Moderation: the reports queue, resolutions, removals, suspensions and their log")
struct ModerationTests {
    static let queuedKeys = reportKeys.union(["reporter", "report_count_for_target"])

    func queue(_ client: TestClient, _ query: String = "", by user: TestClient.User) async throws -> [API.QueuedReport] {
        let response = try await client.get("/v1/admin/reports\(query)", token: user.accessToken)
        guard response.status == .ok else { throw TestSetupError("queue: \(response.status) \(response.text)") }
        #expect(try shape(of: response)["reports"].elements.allSatisfy { $0.keys == Self.queuedKeys })
        return try response.decode(API.QueuePage.self).reports
    }

    @Test(arguments: TestDatabase.allCases)
    func resolvingOneOfThreeReportsResolvesAllThree(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let moderator = try await client.registerModerator()
            let owner = try await client.register()
            let video = try await client.createVideo(owner)
            let other = try await client.createVideo(owner)
            var reporters: [TestClient.User] = []
            var reports: [API.Report] = []
            for category in ["spam", "violence", "other"] {
                let reporter = try await client.register()
                reporters.append(reporter)
                reports.append(try await client.newReport("video", video, by: reporter, category: category))
            }
            let elsewhere = try await client.newReport("video", other, by: reporters[0])
            let aboutOwner = try await client.newReport("user", owner.id, by: reporters[1])

            // Oldest first, each with its reporter and its target's open-report count.
            let open = try await self.queue(client, by: moderator)
            #expect(open.map(\.report.id) == reports.map(\.id) + [elsewhere.id, aboutOwner.id])
            #expect(open.map(\.reportCountForTarget) == [3, 3, 3, 1, 1])
            #expect(open.map(\.reporter.id) == reporters.map(\.id) + [reporters[0].id, reporters[1].id])
            #expect(try await self.queue(client, "?target_type=user", by: moderator).map(\.report.id) == [aboutOwner.id])
            #expect(try await self.queue(client, "?status=resolved", by: moderator).isEmpty)
            let firstPage = try await client.get("/v1/admin/reports?limit=2", token: moderator.accessToken).decode(API.QueuePage.self)
            let cursor = try #require(firstPage.nextCursor)
            #expect(try await self.queue(client, "?limit=2&cursor=\(cursor)", by: moderator).map(\.report.id) == [reports[2].id, elsewhere.id])
            // A cursor belongs to its filter.
            try await client.get("/v1/admin/reports?status=resolved&cursor=\(cursor)", token: moderator.accessToken)
                .expectProblem(422, code: "validation_failed")
            try await client.get("/v1/admin/reports?status=closed", token: moderator.accessToken).expectProblem(422, code: "validation_failed")

            try await client.resolve(aboutOwner.id, "remove_video", by: moderator).expectProblem(422, code: "validation_failed")
            try await client.resolve(reports[1].id, "ban", by: moderator).expectProblem(422, code: "validation_failed")
            try await client.resolve(UUID().uuidString, "no_action", by: moderator).expectProblem(404, code: "not_found")

            let resolved = try await client.resolve(reports[1].id, "remove_video", note: "gore", by: moderator)
            #expect(resolved.status == .ok)
            #expect(try keys(of: resolved) == reportKeys)
            let body = try resolved.decode(API.Report.self)
            #expect(body.id == reports[1].id && body.status == "resolved" && body.resolution == "video_removed" && body.resolvedAt != nil)
            for (reporter, report) in zip(reporters, reports) {
                let mine = try await client.get("/v1/reports", token: reporter.accessToken).decode(API.ReportPage.self).reports
                let seen = try #require(mine.first { $0.id == report.id })
                #expect(seen.status == "resolved" && seen.resolution == "video_removed" && seen.category == report.category)
            }
            #expect(try await self.queue(client, by: moderator).map(\.report.id) == [elsewhere.id, aboutOwner.id])
            let done = try await self.queue(client, "?status=resolved", by: moderator)
            #expect(done.map(\.report.id) == reports.map(\.id) && done.allSatisfy { $0.reportCountForTarget == 0 })
            try await client.resolve(reports[0].id, "no_action", by: moderator).expectProblem(409, code: "report_resolved")

            // Removed: hidden from everyone, its owner included, and out of the owner's video_count.
            try await client.get("/v1/videos/\(video)").expectProblem(404, code: "not_found")
            try await client.get("/v1/videos/\(video)", token: owner.accessToken).expectProblem(404, code: "not_found")
            #expect(try await client.get("/v1/users/me", token: owner.accessToken).decode(API.Me.self).profile.videoCount == 1)
            try await client.report("video", video, by: moderator).expectProblem(404, code: "not_found")

            let restored = try await client.post("/v1/admin/videos/\(video)/restore", token: moderator.accessToken)
            #expect(restored.status == .ok)
            #expect(try restored.decode(API.Video.self).id == video)
            #expect(try await client.get("/v1/videos/\(video)").status == .ok)
            #expect(try await client.get("/v1/users/me", token: owner.accessToken).decode(API.Me.self).profile.videoCount == 2)
            #expect(try await client.post("/v1/admin/videos/\(video)/restore", token: moderator.accessToken).status == .ok)
            try await client.post("/v1/admin/videos/\(UUID().uuidString)/restore", token: moderator.accessToken)
                .expectProblem(404, code: "not_found")

            // The removal and the resolution share a transaction, so on SQLite they may share a millisecond: their
            // order is either.
            let log = try await client.moderationLog(by: moderator)
            #expect(log.count == 4 && log.first?.action == "restore_video" && log.last?.action == "set_role")
            #expect(Set(log.dropFirst().prefix(2).map(\.action)) == ["resolve_reports", "remove_video"])
            let resolution = try #require(log.first { $0.action == "resolve_reports" })
            #expect(resolution.note == "video_removed: 3 reports; gore" && resolution.targetType == "video" && resolution.targetId == video)
            #expect(log.first { $0.action == "remove_video" }?.note == "gore")
            #expect(log.dropLast().allSatisfy { $0.actor?.id == moderator.id && $0.targetId == video })
            #expect(log.last?.actor == nil && log.last?.targetId == moderator.id)
        }
    }

    /// Suspension: the next request of every access token answers `401`; login and refresh `403` without consuming
    /// the refresh token; the profile and videos are hidden; the wallet is untouched; and all returns on unsuspension.
    @Test(arguments: TestDatabase.allCases)
    func aSuspendedAccountIsShutOutUntilUnsuspended(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let admin = try await client.registerAdmin()
            let moderator = try await client.registerModerator()
            let owner = try await client.register()
            let video = try await client.createVideo(owner)
            try await client.grant(40, to: owner, admin: admin)
            let reporter = try await client.register()
            let report = try await client.newReport("video", video, by: reporter, category: "illegal")
            #expect(try await client.get("/v1/users/me", token: owner.accessToken).status == .ok)

            // A video report resolved with suspend_user suspends the video's owner.
            let resolved = try await client.resolve(report.id, "suspend_user", by: moderator).decode(API.Report.self)
            #expect(resolved.resolution == "user_suspended")
            let suspended = try await client.get("/v1/users/me", token: owner.accessToken)
            try suspended.expectProblem(401, code: "account_suspended")
            #expect(suspended.headers[.wwwAuthenticate] == "Bearer")
            let login = try await client.post("/v1/auth/login", json: ["email": owner.email, "password": owner.password])
            try login.expectProblem(403, code: "account_suspended")
            // A wrong password is still only a wrong password.
            try await client.post("/v1/auth/login", json: ["email": owner.email, "password": "wrong-password"])
                .expectProblem(401, code: "invalid_credentials")
            try await client.post("/v1/auth/refresh", json: ["refresh_token": owner.refreshToken]).expectProblem(403, code: "account_suspended")
            try await client.post("/v1/auth/refresh", json: ["refresh_token": owner.refreshToken]).expectProblem(403, code: "account_suspended")
            try await client.get("/v1/users/\(owner.id)", token: reporter.accessToken).expectProblem(404, code: "not_found")
            try await client.get("/v1/videos/\(video)", token: reporter.accessToken).expectProblem(404, code: "not_found")

            // Repeatable; the first reason and time are kept.
            let first = try await client.suspend(owner.id, reason: "first", by: admin).decode(API.Suspension.self)
            #expect(first.suspended && first.reason == "Reported for illegal." && first.suspendedAt != nil)
            let again = try await client.suspend(owner.id, reason: "second", by: moderator).decode(API.Suspension.self)
            #expect(again == first)

            let lifted = try await client.unsuspend(owner.id, by: moderator)
            #expect(lifted.status == .ok)
            #expect(try keys(of: lifted) == ["user_id", "suspended", "reason", "suspended_at"])
            #expect(try lifted.decode(API.Suspension.self) == API.Suspension(userId: owner.id, suspended: false, reason: nil, suspendedAt: nil))
            #expect(try await client.get("/v1/users/me", token: owner.accessToken).status == .ok)
            // The refresh token the refusals did not consume still works, once.
            #expect(try await client.post("/v1/auth/refresh", json: ["refresh_token": owner.refreshToken]).status == .ok)
            #expect(try await client.post("/v1/auth/login", json: ["email": owner.email, "password": owner.password]).status == .ok)
            #expect(try await client.get("/v1/videos/\(video)", token: reporter.accessToken).status == .ok)
            #expect(try await client.balance(owner).balance == 40)
            #expect(try await client.unsuspend(owner.id, by: moderator).status == .ok)

            let actions = try await client.moderationLog(by: admin).map(\.action)
            #expect(actions.first == "unsuspend_user" && Set(actions.dropFirst().prefix(2)) == ["resolve_reports", "suspend_user"])
            #expect(actions.filter { $0 == "suspend_user" }.count == 1 && actions.filter { $0 == "unsuspend_user" }.count == 1)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func moderatorsAdminsAndUsersMayDoWhatTheirRoleAllows(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let admin = try await client.registerAdmin()
            let moderator = try await client.registerModerator()
            let otherModerator = try await client.registerModerator()
            let user = try await client.register()
            let target = try await client.register()
            let video = try await client.createVideo(target)
            let report = try await client.newReport("video", video, by: user)

            // A user may do none of it: 403 on every moderator endpoint.
            for path in ["reports", "users", "effect-jobs/counts", "moderation-log"] {
                try await client.get("/v1/admin/\(path)", token: user.accessToken).expectProblem(403, code: "forbidden")
            }
            try await client.resolve(report.id, "no_action", by: user).expectProblem(403, code: "forbidden")
            try await client.post("/v1/admin/videos/\(video)/restore", token: user.accessToken).expectProblem(403, code: "forbidden")
            try await client.suspend(target.id, by: user).expectProblem(403, code: "forbidden")
            try await client.unsuspend(target.id, by: user).expectProblem(403, code: "forbidden")
            try await client.get("/v1/admin/reports").expectProblem(401, code: "unauthorized")

            // A moderator: role user only, and no admin endpoint.
            try await client.suspend(otherModerator.id, by: moderator).expectProblem(403, code: "forbidden")
            try await client.suspend(admin.id, by: moderator).expectProblem(403, code: "forbidden")
            try await client.suspend(moderator.id, by: moderator).expectProblem(403, code: "forbidden")
            try await client.get("/v1/admin/credits/audit", token: moderator.accessToken).expectProblem(403, code: "forbidden")
            let counts = try await client.get("/v1/admin/effect-jobs/counts", token: moderator.accessToken)
            #expect(try keys(of: counts) == ["queued", "running", "succeeded", "failed"])
            #expect(try counts.decode(API.JobCounts.self) == API.JobCounts(queued: 0, running: 0, succeeded: 0, failed: 0))
            try await client.suspend(target.id, reason: "  ", by: moderator).expectProblem(422, code: "validation_failed")
            try await client.suspend(UUID().uuidString, by: moderator).expectProblem(404, code: "not_found")
            #expect(try await client.suspend(target.id, by: moderator).status == .ok)
            #expect(try await client.unsuspend(target.id, by: moderator).status == .ok)

            // An admin: anyone but themselves.
            try await client.suspend(admin.id, by: admin).expectProblem(403, code: "forbidden")
            #expect(try await client.suspend(otherModerator.id, by: admin).status == .ok)
            try await client.unsuspend(otherModerator.id, by: moderator).expectProblem(403, code: "forbidden")
            #expect(try await client.unsuspend(otherModerator.id, by: admin).status == .ok)
            // A moderator's own video reported and resolved with suspend_user by that moderator: refused, nothing written.
            let own = try await client.createVideo(moderator)
            let aboutModerator = try await client.newReport("video", own, by: user)
            try await client.resolve(aboutModerator.id, "suspend_user", by: moderator).expectProblem(403, code: "forbidden")
            #expect(try await self.queue(client, by: admin).contains { $0.report.id == aboutModerator.id })
            #expect(try await client.resolve(aboutModerator.id, "suspend_user", by: admin).status == .ok)
            try await client.get("/v1/users/me", token: moderator.accessToken).expectProblem(401, code: "account_suspended")
        }
    }

    /// Two admins suspend each other at the same moment: one wins; the other finds the loser the last admin (`409`),
    /// or is itself suspended by the time its request is authenticated (`401`).
    @Test(arguments: TestDatabase.allCases)
    func theLastUnsuspendedAdminCannotBeSuspended(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let first = try await client.registerAdmin()
            let second = try await client.registerAdmin()
            for round in 0..<4 {
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    group.addTask { try await client.suspend(second.id, by: first).status.code }
                    group.addTask { try await client.suspend(first.id, by: second).status.code }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == 200 }.count == 1 && statuses.allSatisfy { [200, 401, 409].contains($0) }, "round \(round): \(statuses)")
                #expect(try await db.count("users", where: "role = 'admin' AND suspended_at IS NULL") == 1, "round \(round)")
                let survivor = try await client.get("/v1/users/me", token: first.accessToken).status == .ok ? first : second
                let loser = survivor.id == first.id ? second : first
                #expect(try await client.unsuspend(loser.id, by: survivor).status == .ok)
            }
            // Demoting goes by the same count: a suspended admin leaves one to demote.
            #expect(try await client.suspend(second.id, by: first).status == .ok)
            try await client.request(.put, "/v1/admin/users/\(first.id)/role", token: first.accessToken, json: ["role": "user"])
                .expectProblem(409, code: "last_admin")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func theConsoleListsAccountsWithFilters(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let moderator = try await client.registerModerator()
            let anna = try await client.register(username: "anna_k", email: "zed@example.com")
            let annabel = try await client.register(username: "annabel", email: "annabel@example.org")
            let bruno = try await client.register(username: "bruno", email: "anna.b@example.net")
            #expect(try await client.suspend(annabel.id, by: moderator).status == .ok)

            let accountKeys = userKeys.union(["email", "role", "suspended", "suspended_at"])
            let everyone = try await client.walk(
                "/v1/admin/users", as: API.AccountPage.self, limit: 2, token: moderator.accessToken, itemKeys: accountKeys)
            #expect(everyone.map(\.profile.id) == [bruno.id, annabel.id, anna.id, moderator.id])
            let suspended = try #require(everyone.first { $0.profile.id == annabel.id })
            #expect(suspended.suspended && suspended.suspendedAt != nil && suspended.email == "annabel@example.org" && suspended.role == "user")

            func ids(_ query: String) async throws -> [String] {
                try await client.get("/v1/admin/users?\(query)", token: moderator.accessToken).decode(API.AccountPage.self).users.map(\.profile.id)
            }
            // A prefix of the email or of the username, in any case; `_` is no wildcard.
            #expect(try await ids("q=ANNA") == [bruno.id, annabel.id, anna.id])
            #expect(try await ids("q=anna_") == [anna.id])
            #expect(try await ids("q=anna&suspended=false") == [bruno.id, anna.id])
            #expect(try await ids("q=anna&suspended=true") == [annabel.id])
            #expect(try await ids("role=moderator") == [moderator.id])
            try await client.get("/v1/admin/users?role=root", token: moderator.accessToken).expectProblem(422, code: "validation_failed")
            try await client.get("/v1/admin/users?suspended=maybe", token: moderator.accessToken).expectProblem(422, code: "validation_failed")
        }
    }
}
