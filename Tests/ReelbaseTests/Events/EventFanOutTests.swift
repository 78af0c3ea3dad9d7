import Foundation
import SQLKit
import Testing

@testable import Reelbase

@Suite("Live events across instances: one PostgreSQL, LISTEN/NOTIFY from the committed outbox")
struct EventFanOutTests {
    /// Two applications on one database, as two instances behind a load balancer: the stream is held by B, every
    /// event is caused through A.
    @Test func aStreamOnInstanceBGetsWhatIsCausedThroughAAndLosesNothingWhenItsListenerIsKilled() async throws {
        try await TestApp.withFreshDatabase(.postgres) { url in
            let configuration = try TestApp.configuration(databaseURL: url, settings: [:])
            let first = try await buildApplication(configuration: configuration, logger: TestApp.logger)
            let second = try await buildApplication(configuration: configuration, logger: TestApp.logger)
            try await LiveServer.run(first, databaseURL: url) { a, _ in
                try await LiveServer.run(second, databaseURL: url) { _, portB in
                    let owner = try await a.register()
                    let video = try await a.createVideo(owner)
                    let fans = [try await a.register(), try await a.register(), try await a.register()]
                    try await EventStreamClient.with(port: portB, headers: owner.bearer) { stream in
                        #expect(try await a.post("/v1/likes/videos/\(video)", token: fans[0].accessToken).status == .ok)
                        let live = try #require(try await stream.nextEvent())
                        #expect(live.event == "notification")
                        #expect(try live.decode(API.Notification.self).actor?.id == fans[0].id)

                        // Both instances' listener connections die (as in a failover or a network cut); what commits
                        // meanwhile is caught up from the outbox once they listen again.
                        try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                            let killed = try await db.sql.raw(
                                """
                                SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
                                WHERE application_name = \(bind: PostgresEventListener.applicationName) AND datname = current_database()
                                """
                            ).all(decodingColumn: "killed", as: Bool.self)
                            #expect(killed == [true, true])
                        }
                        #expect(try await a.post("/v1/likes/videos/\(video)", token: fans[1].accessToken).status == .ok)
                        try await a.follow(owner, by: fans[2])
                        let caughtUp = [try await stream.nextEvent(), try await stream.nextEvent()].compactMap { $0 }
                        #expect(caughtUp.map(\.event) == ["notification", "notification"])
                        #expect(try caughtUp.map { try $0.decode(API.Notification.self).actor?.id } == [fans[1].id, fans[2].id])
                        #expect([live.seq] + caughtUp.map(\.seq) == [1, 2, 3])

                        // And live again, through the new connection.
                        #expect(try await a.post("/v1/likes/videos/\(try await a.createVideo(owner))", token: fans[0].accessToken).status == .ok)
                        #expect(try await stream.nextEvent()?.seq == 4)
                    }
                }
            }
        }
    }
}
