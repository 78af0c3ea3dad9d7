import Foundation
import HTTPTypes
import Logging
import Testing

@testable import Reelbase

@Suite("Effects: charged on acceptance, refunded once on failure")
struct EffectJobTests {
    @Test(arguments: TestDatabase.allCases)
    func effectsListAndJobShapes(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let effects = try await client.get("/v1/effects").decode(API.Effects.self).effects
            let glitch = try #require(effects.first)
            #expect(glitch.id == "glitch_animate" && glitch.name == "AI Glitch: Animate")
            #expect(glitch.credits == 10)

            let (_, user, video) = try await client.fundedUserWithVideo(credits: 25)
            let accepted = try await client.createJob(user, video: video)
            #expect(accepted.status == .accepted)
            #expect(try keys(of: accepted) == ["job_id", "status", "credits_charged", "new_balance"])
            let body = try accepted.decode(API.JobAccepted.self)
            #expect(body.status == "queued" && body.creditsCharged == 10 && body.newBalance == 15)

            let history = try await client.get("/v1/credits/history?transaction_type=usage", token: user.accessToken).decode(API.History.self)
            let row = try #require(history.transactions.first)
            #expect(row.description == "AI Glitch: Animate (10 credits)" && row.credits == -10)

            let jobID = body.jobId
            let job = try await client.get("/v1/effects/jobs/\(jobID)", token: user.accessToken)
            #expect(job.status == .ok)
            #expect(try keys(of: job) == ["job_id", "effect_id", "video_id", "status", "credits_charged", "created_at", "updated_at"])
            let stranger = try await client.register()
            try await client.get("/v1/effects/jobs/\(jobID)", token: stranger.accessToken).expectProblem(404, code: "not_found")

            try await client.createJob(user, video: video, effect: "teleport").expectProblem(404, code: "not_found")
            try await client.createJob(user, video: UUID().uuidString).expectProblem(404, code: "not_found")
            try await client.createJob(user, video: "nope").expectProblem(422, code: "validation_failed")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func insufficientCreditsWriteNothing(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let (admin, user, video) = try await client.fundedUserWithVideo(credits: 5)
            let refused = try await client.createJob(user, video: video, key: "first-try")
            let problem = try refused.expectProblem(402, code: "insufficient_credits")
            #expect(problem.required == 10 && problem.balance == 5)
            let jobs = try await db.sql.raw("SELECT COUNT(*) AS n FROM effect_jobs").first()?.decode(column: "n", as: Int.self)
            #expect(jobs == 0)
            #expect(try await client.balance(user).balance == 5)
            // The refused key was let go: after topping up, the same key works, and replays once done.
            try await client.grant(5, to: user, admin: admin)
            let accepted = try await client.createJob(user, video: video, key: "first-try")
            #expect(accepted.status == .accepted)
            let replay = try await client.createJob(user, video: video, key: "first-try")
            #expect(replay.body == accepted.body && replay.headers[.idempotentReplayed] == "true")
            #expect(try await client.balance(user).balance == 0)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func concurrentRequestsNeverOverspend(_ database: TestDatabase) async throws {
        let affordable = 6
        try await TestApp.run(database) { client in
            let (admin, user, video) = try await client.fundedUserWithVideo(credits: 10 * affordable)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<(3 * affordable) { group.addTask { try await client.createJob(user, video: video).status.code } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 202 }.count == affordable)
            #expect(statuses.filter { $0 == 402 }.count == 2 * affordable)
            #expect(try await client.balance(user).balance == 0)
            let audit = try await client.audit(admin: admin)
            #expect(audit.mismatches.isEmpty)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func eightClaimersTakeEachJobOnce(_ database: TestDatabase) async throws {
        let jobCount = 40
        try await TestApp.run(database) { client in
            let (_, user, video) = try await client.fundedUserWithVideo(credits: 10 * jobCount)
            var created = Set<String>()
            for _ in 0..<jobCount {
                created.insert(try await client.createJob(user, video: video).decode(API.JobAccepted.self).jobId)
            }
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var mine: [String] = []
                        while true {
                            let response = try await client.worker("claim")
                            if response.status == .noContent { return mine }
                            #expect(response.status == .ok)
                            let job = try response.decode(API.Job.self)
                            #expect(job.status == "running" && job.userId == user.id)
                            mine.append(job.jobId)
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claimed.count == jobCount)
            #expect(Set(claimed) == created)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func failRefundsExactlyOnce(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let (_, user, video) = try await client.fundedUserWithVideo(credits: 30)
            let jobID = try await client.createJob(user, video: video).decode(API.JobAccepted.self).jobId
            try await client.worker("\(jobID)/fail", json: ["error": "x"]).expectProblem(409, code: "job_not_running")
            #expect(try await client.worker("claim").status == .ok)

            let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<5 { group.addTask { try await client.worker("\(jobID)/fail", json: ["error": "GPU on fire"]).status.code } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(failures.sorted() == [200, 409, 409, 409, 409])
            try await client.worker("\(jobID)/complete", json: ["output_url": "https://x"]).expectProblem(409, code: "job_already_finished")
            try await client.worker("\(UUID().lowercased)/fail", json: ["error": "x"]).expectProblem(404, code: "not_found")

            #expect(try await client.balance(user) == API.Balance(balance: 30, totalEarned: 30, totalSpent: 0))
            let refunds = try await client.get("/v1/credits/history?transaction_type=refund", token: user.accessToken).decode(API.History.self)
            let rows = refunds.transactions
            #expect(rows.count == 1)
            #expect(rows.first?.description == "Refund: AI Glitch: Animate (10 credits)")
            let job = try await client.get("/v1/effects/jobs/\(jobID)", token: user.accessToken).decode(API.Job.self)
            #expect(job.status == "failed" && job.error == "GPU on fire")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func workerEndpointsNeedTheServiceKey(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            try await client.worker("claim", key: user.accessToken).expectProblem(401, code: "unauthorized")
            try await client.worker("claim", key: "wrong").expectProblem(401, code: "unauthorized")
            try await client.request(.post, "/v1/internal/effect-jobs/claim").expectProblem(401, code: "unauthorized")
            #expect(try await client.worker("claim").status == .noContent)
        }
        try await TestApp.run(database, settings: ["service.key": ""]) { client in
            try await client.worker("claim").expectProblem(401, code: "unauthorized")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func sweeperRefundsStaleJobsOnceEvenRacingALateComplete(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let (admin, user, video) = try await client.fundedUserWithVideo(credits: 100)
            var jobs: [String] = []
            for _ in 0..<6 {
                jobs.append(try await client.createJob(user, video: video).decode(API.JobAccepted.self).jobId)
                #expect(try await client.worker("claim").status == .ok)
            }
            try await db.sql.raw("UPDATE effect_jobs SET claimed_at = \(bind: Date().addingTimeInterval(-3600))").run()

            let store = EffectJobStore(database: db, ledger: CreditLedger(dialect: db.dialect))
            let sweeper = EffectJobSweeper(jobs: store, timeout: .seconds(600), logger: TestApp.logger)
            // Late reports race the sweep for every job; each job ends exactly once either way.
            let lateStatuses = try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask { try await sweeper.sweep() }
                for job in jobs {
                    group.addTask { try await client.worker("\(job)/complete", json: ["output_url": "https://cdn/out.mp4"]).status.code }
                }
                var statuses: [Int] = []
                for try await value in group { statuses.append(value) }
                return statuses
            }
            #expect(lateStatuses.count == 7)
            #expect(try await sweeper.sweep() == 0)

            let rows = try await db.sql.raw("SELECT status, refund_transaction_id FROM effect_jobs").all()
            var failed = 0
            for row in rows {
                let status = try row.decode(column: "status", as: String.self)
                let refunded = try row.decode(column: "refund_transaction_id", as: UUID?.self) != nil
                #expect(status == "failed" ? refunded : (status == "succeeded" && !refunded))
                if status == "failed" { failed += 1 }
            }
            let refunds = try await client.get("/v1/credits/history?transaction_type=refund", token: user.accessToken).decode(API.History.self)
            #expect(refunds.total == failed)
            #expect(try await client.balance(user).balance == 100 - 10 * (jobs.count - failed))
            #expect(try await client.audit(admin: admin).mismatches.isEmpty)
        }
    }
}

@Suite("Effects: the caller's job list")
struct EffectJobListTests {
    @Test(arguments: TestDatabase.allCases)
    func jobsAreListedNewestFirstWithCursors(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let (_, user, video) = try await client.fundedUserWithVideo(credits: 100)
            var created: [String] = []
            for _ in 0..<5 { created.append(try await client.createJob(user, video: video).decode(API.JobAccepted.self).jobId) }

            var seen: [String] = []
            var cursor = ""
            repeat {
                let response = try await client.get("/v1/effects/jobs?limit=2&cursor=\(cursor)", token: user.accessToken)
                #expect(try keys(of: response) == ["jobs", "next_cursor", "has_more"])
                let page = try response.decode(API.JobPage.self)
                seen += page.jobs.map(\.jobId)
                cursor = page.nextCursor ?? ""
                #expect(page.hasMore == !cursor.isEmpty)
            } while !cursor.isEmpty
            #expect(seen == created.reversed())

            let other = try await client.register()
            let emptyResponse = try await client.get("/v1/effects/jobs", token: other.accessToken)
            let empty = try emptyResponse.decode(API.JobPage.self)
            #expect(try empty.jobs.isEmpty && empty.nextCursor == nil && keys(of: emptyResponse).contains("next_cursor"))
            let mine = try await client.get("/v1/effects/jobs?limit=1", token: user.accessToken).decode(API.JobPage.self)
            let myCursor = try #require(mine.nextCursor)
            try await client.get("/v1/effects/jobs?cursor=\(myCursor)", token: other.accessToken).expectProblem(422, code: "validation_failed")
            try await client.get("/v1/effects/jobs?limit=0", token: user.accessToken).expectProblem(422, code: "validation_failed")
        }
    }
}
