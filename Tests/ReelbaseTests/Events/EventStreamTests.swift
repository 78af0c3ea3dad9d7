import Foundation
import SQLKit
import Testing

@testable import Reelbase

/// Runs the app on a socket over a fresh database of `database`, with `settings`; `body` gets a client, the port and
/// a handle on the database.
func withLiveApp(
    _ database: TestDatabase, settings: [String: String] = [:],
    _ body: @escaping @Sendable (TestClient, Int, Reelbase.Database) async throws -> Void
) async throws {
    try await TestApp.withFreshDatabase(database) { url in
        let configuration = try TestApp.configuration(databaseURL: url, settings: settings)
        let app = try await buildApplication(configuration: configuration, logger: TestApp.logger)
        try await LiveServer.run(app, databaseURL: url) { client, port in
            try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                try await body(client, port, db)
            }
        }
    }
}

extension TestClient.User {
    var bearer: [String: String] { ["Authorization": "Bearer \(self.accessToken)"] }
}

extension SSEEvent {
    /// The user's event number in the `id:` (`<n>-<tag>`).
    var seq: Int { self.id.flatMap { $0.split(separator: "-").first }.flatMap { Int($0) } ?? -1 }
}

@Suite("Live events: GET /v1/events over Server-Sent Events")
struct EventStreamTests {
    @Test(arguments: TestDatabase.allCases)
    func aStreamGetsTheEventsOfALikeAndAFailedJobInCommitOrderAndAResumptionExactlyTheMissedOnes(_ database: TestDatabase) async throws {
        try await withLiveApp(database, settings: ["event.heartbeat.seconds": "1"]) { client, port, _ in
            let (_, owner, video) = try await client.fundedUserWithVideo(credits: 100)
            let fan = try await client.register()
            let (seen, job) = try await EventStreamClient.with(port: port, headers: owner.bearer) { stream in
                #expect(stream.status == 200)
                #expect(stream.head.lowercased().contains("content-type: text/event-stream"))
                let job = try await client.createJob(owner, video: video).decode(API.JobAccepted.self)
                #expect(try await client.post("/v1/likes/videos/\(video)", token: fan.accessToken).status == .ok)
                return (try await stream.events(through: "notification"), job)
            }
            // The charge's ledger row, the job queued, the like.
            #expect(seen.map(\.event) == ["balance", "job", "notification"])
            #expect(try seen[0].decode(API.BalanceEvent.self) == API.BalanceEvent(balance: 90))
            let queued = try seen[1].decode(API.Job.self)
            #expect(queued.jobId == job.jobId && queued.status == "queued" && queued.userId == nil)
            let like = try seen[2].decode(API.Notification.self)
            #expect(like.type == "like" && like.actor?.id == fan.id && like.video?.id == video)
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.seq < $1.seq })

            // While no stream is open, the worker claims the job and fails it.
            try await client.failNextJob()
            let lastID = try #require(seen.last?.id)
            let missed = try await EventStreamClient.with(port: port, headers: owner.bearer.merging(["Last-Event-ID": lastID]) { $1 }) { stream in
                var events: [SSEEvent] = []
                // Exactly the missed ones: after them comes the heartbeat, not another event.
                while case .event(let event) = try await stream.nextFrame() { events.append(event) }
                return events
            }
            #expect(missed.map(\.event) == ["job", "balance", "job", "notification"])
            #expect(try missed.map { try $0.decode(StatusProbe.self).status } == ["running", nil, "failed", nil])
            #expect(try missed[1].decode(API.BalanceEvent.self).balance == 100)
            let failed = try missed[3].decode(API.Notification.self)
            #expect(failed.type == "effect_failed" && failed.jobId == job.jobId && failed.credits == 10)
            #expect(missed.first?.seq == (seen.last?.seq ?? 0) + 1)
            #expect(zip(missed, missed.dropFirst()).allSatisfy { $0.seq < $1.seq })
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func anIdThatIsUnknownForeignOrTooOldGetsResetThenLiveEvents(_ database: TestDatabase) async throws {
        try await withLiveApp(database, settings: ["event.replay.seconds": "60"]) { client, port, db in
            let user = try await client.register()
            let other = try await client.register()
            let video = try await client.createVideo(user)
            // Two notifications of `user`'s, and one of `other`'s, whose ids are their streams' ids.
            for fan in [try await client.register(), try await client.register()] {
                #expect(try await client.post("/v1/likes/videos/\(video)", token: fan.accessToken).status == .ok)
            }
            try await client.follow(other, by: user)
            let userID = try #require(UUID(uuidString: user.id))
            let otherID = try #require(UUID(uuidString: other.id))
            let mine = [EventID(seq: 1, userID: userID).text, EventID(seq: 2, userID: userID).text]
            let foreign = EventID(seq: 1, userID: otherID).text

            for id in ["garbage", "7", foreign, EventID(seq: 99, userID: userID).text] {
                let first = try await EventStreamClient.with(port: port, path: "/v1/events?last_event_id=\(id)", headers: user.bearer) {
                    try await $0.nextEvent()
                }
                #expect(first?.event == "reset", "\(id)")
                #expect(first?.id == nil)
            }
            // Within the replay window, the events after the id; past it (aged beneath the API), reset.
            let replayed = try await EventStreamClient.with(port: port, headers: user.bearer.merging(["Last-Event-ID": mine[0]]) { $1 }) {
                try await $0.nextEvent()
            }
            #expect(replayed?.event == "notification" && replayed?.id == mine[1])
            try await db.sql.raw("UPDATE events SET created_at = \(bind: Date().addingTimeInterval(-120)) WHERE user_id = \(bind: userID) AND seq = 1")
                .run()
            try await EventStreamClient.with(port: port, headers: user.bearer.merging(["Last-Event-ID": mine[0]]) { $1 }) { stream in
                #expect(try await stream.nextEvent()?.event == "reset")
                // Then live.
                try await client.follow(user, by: other)
                let live = try await stream.nextEvent()
                // Numbers increase, not necessarily by one: the sixth stream opened here told the oldest to close,
                // which is an (unsent) event too.
                #expect(live?.event == "notification" && (live?.seq ?? 0) > 2)
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func anIdleStreamSendsAHeartbeatWithinItsInterval(_ database: TestDatabase) async throws {
        try await withLiveApp(database, settings: ["event.heartbeat.seconds": "1"]) { client, port, _ in
            let user = try await client.register()
            try await EventStreamClient.with(port: port, headers: user.bearer) { stream in
                for _ in 0..<2 {
                    let started = ContinuousClock.now
                    let frame = try await stream.nextFrame()
                    #expect(frame == .comment("keep-alive"))
                    #expect(ContinuousClock.now - started < .milliseconds(2500))
                }
            }
        }
        #expect(throws: ConfigurationError.self) {
            try TestApp.configuration(databaseURL: "sqlite://unused.sqlite", settings: ["event.heartbeat.seconds": "16"])
        }
        #expect(try TestApp.configuration(databaseURL: "sqlite://unused.sqlite", settings: [:]).eventHeartbeatSeconds == 15)
        #expect(try TestApp.configuration(databaseURL: "sqlite://unused.sqlite", settings: [:]).eventReplaySeconds == 600)
    }

    /// A stream is one long response: the connection deadlines (here 1 s each) never cut it, however quiet it is.
    /// (PostgreSQL, so that the event can be caused beneath the API: the test's own keep-alive connection to the API
    /// is idle meanwhile and rightly closed.)
    @Test func aQuietStreamOutlivesTheIdleAndRequestTimeouts() async throws {
        let settings = ["idle.timeout": "1", "request.head.timeout": "1", "request.body.timeout": "1"]
        try await withLiveApp(.postgres, settings: settings) { client, port, db in
            let user = try await client.register()
            let userID = try #require(UUID(uuidString: user.id))
            try await EventStreamClient.with(port: port, headers: user.bearer) { stream in
                try await Task.sleep(for: .seconds(3))
                _ = try await db.transaction { connection in
                    try await NotificationWriter(dialect: db.dialect).write(
                        NewNotification(recipientID: userID, kind: .purchaseCredited, credits: 5), on: connection)
                }
                let event = try await stream.nextEvent()
                #expect(event?.event == "notification")
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func ticketsAreSingleUseBoundToTheSessionAndExpireAfterSixtySeconds(_ database: TestDatabase) async throws {
        try await withLiveApp(database) { client, port, db in
            let user = try await client.register()
            try await client.post("/v1/events/tickets").expectProblem(401, code: "unauthorized")
            let issued = try await client.post("/v1/events/tickets", token: user.accessToken)
            #expect(issued.status == .created)
            #expect(try keys(of: issued) == ["ticket", "expires_in"])
            let body = try issued.decode(API.Ticket.self)
            #expect(body.expiresIn == 60)
            // Stored hashed, expiring 60 s after issue.
            let stored = try #require(try await db.sql.raw("SELECT token_hash, expires_at FROM event_tickets").first())
            #expect(try stored.decode(column: "token_hash", as: String.self) == TokenIssuer.hash(refreshToken: body.ticket))
            let expiresIn = try stored.decode(column: "expires_at", as: Date.self).timeIntervalSinceNow
            #expect(expiresIn > 55 && expiresIn <= 60)

            // Opens a stream once; never again.
            try await EventStreamClient.with(port: port, path: "/v1/events?ticket=\(body.ticket)") { stream in
                #expect(stream.status == 200)
                try await client.follow(user, by: try await client.register())
                #expect(try await stream.nextEvent()?.event == "notification")
            }
            for path in ["/v1/events?ticket=\(body.ticket)", "/v1/events?ticket=nope", "/v1/events", "/v1/events?access_token=\(user.accessToken)"] {
                try await EventStreamClient.with(port: port, path: path) { stream in
                    #expect(stream.status == 401, "\(path)")
                    let body = try await stream.bodyText()
                    #expect(body.contains("\"code\":\"unauthorized\""), "\(body)")
                }
            }
            // Expired (its time moved beneath the API), or of a session since ended.
            let expired = try await client.post("/v1/events/tickets", token: user.accessToken).decode(API.Ticket.self)
            try await db.sql.raw(
                "UPDATE event_tickets SET expires_at = \(bind: Date().addingTimeInterval(-1)) WHERE token_hash = \(bind: TokenIssuer.hash(refreshToken: expired.ticket))"
            ).run()
            let orphan = try await client.post("/v1/events/tickets", token: user.accessToken).decode(API.Ticket.self)
            #expect(try await client.post("/v1/auth/logout", json: ["refresh_token": user.refreshToken]).status == .noContent)
            for ticket in [expired.ticket, orphan.ticket] {
                try await EventStreamClient.with(port: port, path: "/v1/events?ticket=\(ticket)") { #expect($0.status == 401) }
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func streamsEndWithTheirSessionOnLogoutAndOnRefreshTokenReuse(_ database: TestDatabase) async throws {
        try await withLiveApp(database) { client, port, _ in
            let user = try await client.register()
            let second = try await client.login(user.email, user.password).decode(API.Auth.self)
            try await EventStreamClient.with(port: port, headers: user.bearer) { first in
                try await EventStreamClient.with(port: port, headers: ["Authorization": "Bearer \(second.accessToken)"]) { other in
                    #expect(try await client.post("/v1/auth/logout", json: ["refresh_token": user.refreshToken]).status == .noContent)
                    let started = ContinuousClock.now
                    #expect(try await first.nextEvent() == nil)
                    #expect(ContinuousClock.now - started < .seconds(10))
                    // The other session's stream goes on.
                    try await client.follow(user, by: try await client.register())
                    #expect(try await other.nextEvent()?.event == "notification")
                    // Reuse of a spent refresh token ends that session, and its stream.
                    #expect(try await client.post("/v1/auth/refresh", json: ["refresh_token": second.refreshToken]).status == .ok)
                    try await client.post("/v1/auth/refresh", json: ["refresh_token": second.refreshToken])
                        .expectProblem(401, code: "refresh_token_reused")
                    #expect(try await other.nextEvent() == nil)
                    #expect(ContinuousClock.now - started < .seconds(20))
                }
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aSixthStreamClosesTheOldestAndSuspensionEndsThemAll(_ database: TestDatabase) async throws {
        try await withLiveApp(database) { client, port, _ in
            let moderator = try await client.registerModerator()
            let user = try await client.register()
            let (ended, endings) = AsyncStream.makeStream(of: Int.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<6 {
                    let (opened, open) = AsyncStream.makeStream(of: Void.self)
                    group.addTask {
                        defer { open.finish() }
                        try await EventStreamClient.with(port: port, headers: user.bearer) { stream in
                            open.finish()
                            while try await stream.nextFrame() != nil {}
                            endings.yield(index)
                        }
                    }
                    for await _ in opened {}
                }
                var iterator = ended.makeAsyncIterator()
                let oldest = await iterator.next()
                #expect(oldest == 0)
                #expect(try await client.suspend(user.id, by: moderator).status == .ok)
                var rest: [Int] = []
                for _ in 0..<5 { rest.append(await iterator.next() ?? -1) }
                #expect(rest.sorted() == [1, 2, 3, 4, 5])
                try await group.waitForAll()
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func shutdownDoesNotWaitForOpenStreams(_ database: TestDatabase) async throws {
        try await TestApp.withFreshDatabase(database) { url in
            let configuration = try TestApp.configuration(databaseURL: url, settings: [:])
            let app = try await buildApplication(configuration: configuration, logger: TestApp.logger)
            let (opened, open) = AsyncStream.makeStream(of: Void.self)
            let (stream, shutdownStarted) = try await LiveServer.run(app, databaseURL: url) { client, port in
                let user = try await client.register()
                let stream = Task {
                    defer { open.finish() }
                    return try await EventStreamClient.with(port: port, headers: user.bearer, limit: .seconds(60)) { stream in
                        open.finish()
                        return try await stream.nextFrame() == nil
                    }
                }
                for await _ in opened {}
                return (stream, ContinuousClock.now)
            }
            // The server stopped (its services too) with a stream open, well within a heartbeat, and ended the stream.
            #expect(ContinuousClock.now - shutdownStarted < .seconds(10))
            #expect(try await stream.value)
        }
    }
}

/// The `status` of an event's data, if it has one (a job's).
struct StatusProbe: Decodable {
    var status: String?
}

extension API {
    struct Ticket: Decodable, Equatable {
        var ticket: String
        var expiresIn: Int
    }
}
