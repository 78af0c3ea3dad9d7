import Foundation
import Testing

@testable import Reelbase

/// The pruning pass of `serve`'s housekeeping service, run directly at a chosen instant.
@Suite("Housekeeping: idempotency keys, refresh tokens, rate-limit buckets, unknown-payment events, live events and tickets past their horizon")
struct HousekeepingTests {
    static let week: TimeInterval = 7 * 86_400

    /// The housekeeping of another instance of the app, over the test's handle of its database.
    static func housekeeping(_ db: Reelbase.Database) -> Housekeeping {
        Housekeeping(
            idempotency: IdempotencyStore(database: db), refreshTokens: SQLRefreshTokenStore(database: db, ttl: 60),
            rateLimits: RateLimitStore(database: db), payments: db.payments,
            events: EventStreams(database: db, replayWindow: 600, heartbeat: .seconds(15), logger: TestApp.logger), logger: TestApp.logger)
    }

    @Test(arguments: TestDatabase.allCases)
    func eachPruneKeepsRowsJustInsideItsHorizon(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            let userID = try #require(UUID(uuidString: user.id))
            let now = Date()
            for (key, age) in [("old", Self.week + 60), ("recent", Self.week - 60)] {
                try await db.sql.raw(
                    """
                    INSERT INTO idempotency_keys (user_id, scope, key, request_hash, response_status, response_body, created_at)
                    VALUES (\(bind: userID), 'purchase', \(bind: key), 'hash', 200, '{}', \(bind: now - age))
                    """
                ).run()
            }
            for (hash, expiredFor) in [("dead", Self.week + 60), ("lingering", Self.week - 60)] {
                try await db.sql.raw(
                    """
                    INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at)
                    VALUES (\(bind: UUID()), \(bind: UUID()), \(bind: userID), \(bind: hash), \(bind: now - expiredFor), \(bind: now - 60 * 86_400))
                    """
                ).run()
            }
            let nowSeconds = Int(now.timeIntervalSince1970)
            for (subject, expiresAt) in [("passed", nowSeconds), ("current", nowSeconds + 1)] {
                try await db.sql.raw(
                    """
                    INSERT INTO rate_limit_buckets (limit_name, subject, bucket_start, expires_at, events)
                    VALUES ('login_ip', \(bind: subject), \(bind: expiresAt - 900), \(bind: expiresAt), 1)
                    """
                ).run()
            }
            // Events past the replay window (600 s here) and expired event tickets.
            for (seq, age) in [(1, 601.0), (2, 599.0)] {
                try await db.sql.raw(
                    "INSERT INTO events (user_id, seq, type, payload, created_at) VALUES (\(bind: userID), \(bind: seq), 'balance', '{}', \(bind: now - age))"
                ).run()
            }
            let sessionID = try #require(try await db.sql.raw("SELECT id FROM sessions").first(decodingColumn: "id", as: UUID.self))
            for (hash, expiresAt) in [("spent", now), ("usable", now + 1)] {
                try await db.sql.raw(
                    "INSERT INTO event_tickets (token_hash, user_id, session_id, expires_at) VALUES (\(bind: hash), \(bind: userID), \(bind: sessionID), \(bind: expiresAt))"
                ).run()
            }
            try await Self.housekeeping(db).prune(now: now)
            #expect(try await db.sql.raw("SELECT seq FROM events").all(decodingColumn: "seq", as: Int.self) == [2])
            #expect(try await db.sql.raw("SELECT token_hash FROM event_tickets").all(decodingColumn: "token_hash", as: String.self) == ["usable"])

            let keys = try await db.sql.raw("SELECT key FROM idempotency_keys").all(decodingColumn: "key", as: String.self)
            #expect(keys == ["recent"])
            let tokens = try await db.sql.raw("SELECT token_hash FROM refresh_tokens ORDER BY created_at")
                .all(decodingColumn: "token_hash", as: String.self)
            #expect(tokens.count == 2 && tokens.first == "lingering", "the registration's live token and the lingering one: \(tokens)")
            let subjects = try await db.sql.raw("SELECT subject FROM rate_limit_buckets WHERE limit_name = 'login_ip'")
                .all(decodingColumn: "subject", as: String.self)
            #expect(subjects == ["current"])
            // The registration's own session still works.
            #expect(try await client.post("/v1/auth/refresh", json: ["refresh_token": user.refreshToken]).status == .ok)
        }
    }
}
