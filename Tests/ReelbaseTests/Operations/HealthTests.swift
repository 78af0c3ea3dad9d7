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

    /// Stops a dedicated PostgreSQL under a running app for about 15 s (long enough for postgres-nio's own reconnect
    /// backoff to pass 2 s): the first request finds the outage within the general bound; from then on `/readyz`
    /// answers `503` within 1 s and a request within 2 s, every time; after the restart both answer `200` within 2 s.
    @Test func postgresOutageAnswers503AndRecovers() async throws {
        try await Self.withAppOnItsOwnCluster { cluster, client, user in
            try await cluster.stop()
            let stopped = ContinuousClock.now
            let first = try await client.get("/v1/users/me", token: user.accessToken)
            try first.expectProblem(503, code: "database_unavailable")
            #expect(first.headers[.retryAfter] != nil)
            #expect(ContinuousClock.now - stopped < .seconds(10))

            while ContinuousClock.now - stopped < .seconds(15) {
                var started = ContinuousClock.now
                try await client.get("/readyz").expectProblem(503, code: "database_unavailable")
                let readiness = ContinuousClock.now - started
                #expect(readiness < .seconds(1), "/readyz took \(readiness)")
                started = ContinuousClock.now
                let down = try await client.get("/v1/users/me", token: user.accessToken)
                try down.expectProblem(503, code: "database_unavailable")
                #expect(down.headers[.retryAfter] != nil)
                let request = ContinuousClock.now - started
                #expect(request < .seconds(2), "a request took \(request)")
                try await Task.sleep(for: .milliseconds(500))
            }
            // The answers are counted by why (the registry is the process's: other tests' answers count too).
            let metrics = try await client.get("/metrics").text
            #expect(metrics.contains(#"reelbase_db_unavailable_total{reason="server_unreachable"} "#), "\(metrics)")

            try await cluster.start()
            try await Self.expectRecovery(client, user, since: ContinuousClock.now)
        }
    }

    /// The same outage with no request at all until the server is back: nothing asked, the pool must notice the outage
    /// by itself, so that recovery still comes within 2 s and does not wait out postgres-nio's reconnect backoff
    /// (seconds by then, up to a minute after longer outages).
    @Test func postgresOutageWithoutTrafficIsRecoveredFromWithin2s() async throws {
        try await Self.withAppOnItsOwnCluster { cluster, client, user in
            try await cluster.stop()
            try await Task.sleep(for: .seconds(15))
            try await cluster.start()
            try await Self.expectRecovery(client, user, since: ContinuousClock.now)
        }
    }

    /// Runs `body` with a PostgreSQL server of the test's own, an app on it driven in memory, and a signed-in user.
    private static func withAppOnItsOwnCluster(
        _ body: @escaping @Sendable (TestCluster, TestClient, TestClient.User) async throws -> Void
    ) async throws {
        try await TestCluster.with { cluster in
            try await cluster.start()
            let configuration = try TestApp.configuration(databaseURL: cluster.url(), settings: [:])
            let app = try await buildApplication(configuration: configuration, logger: TestApp.logger)
            try await app.test(.router) { raw in
                let client = TestClient(client: raw)
                let user = try await client.register()
                #expect(try await client.get("/readyz").status == .ok)
                try await body(cluster, client, user)
            }
        }
    }

    /// Expects `/readyz` and an authenticated request to answer `200` within 2 s of `restarted`, asking every 50 ms
    /// and giving up after 10 s.
    private static func expectRecovery(_ client: TestClient, _ user: TestClient.User, since restarted: ContinuousClock.Instant)
        async throws
    {
        var recovered = false
        while !recovered && ContinuousClock.now - restarted < .seconds(10) {
            recovered = try await client.get("/readyz").status == .ok
            if recovered { recovered = try await client.get("/v1/users/me", token: user.accessToken).status == .ok }
            if !recovered { try await Task.sleep(for: .milliseconds(50)) }
        }
        let recovery = ContinuousClock.now - restarted
        #expect(recovered)
        #expect(recovery < .seconds(2), "recovered \(recovery) after the restart")
    }
}
