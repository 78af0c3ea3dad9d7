import Foundation
import Testing

@testable import Reelbase

/// The sliding window of one-minute buckets, on a clock the test sets.
@Suite("Rate limits: the sliding window")
struct RateLimitStoreTests {
    /// A bucket boundary: 1_800_000_000 is a multiple of 60.
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: TestDatabase.allCases)
    func theWindowFreesItsOldestBucketAndRefusalsDoNotCount(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { _, db in
            let store = RateLimitStore(database: db)
            let limit = RateLimit(count: 2, window: 180)
            func count(_ seconds: TimeInterval, subject: String = "a") async throws -> Bool {
                try await store.count(.reportUser, subject: subject, limit: limit, now: Self.t0 + seconds) != nil
            }
            #expect(try await count(10))
            #expect(try await count(70))
            #expect(try await !count(100))
            #expect(try await store.retryAfter(.reportUser, subject: "a", limit: limit, now: Self.t0 + 100) == 80)
            // Still full a second before the first minute leaves the window; the refusals above counted nothing.
            #expect(try await !count(179))
            #expect(try await count(5, subject: "b"), "another subject has its own window")
            #expect(try await count(180))
            #expect(try await !count(181))
            #expect(try await store.retryAfter(.reportUser, subject: "a", limit: limit, now: Self.t0 + 181) == 59)
            // A given-back event frees its place at once.
            try await store.giveBack([CountedEvent(name: .reportUser, subject: "a", bucketStart: 1_800_000_180)])
            #expect(try await count(200))
            // Buckets leave the table when their window has passed: the one of minute 0 at 180 s, of minute 1 at 240 s.
            try await store.prune(now: Self.t0 + 239)
            #expect(try await db.count("rate_limit_buckets", where: "subject = 'a'") == 2)
            try await store.prune(now: Self.t0 + 240)
            #expect(try await db.count("rate_limit_buckets", where: "subject = 'a'") == 1)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aWindowOfSecondsCountsWholeMinutes(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { _, db in
            let store = RateLimitStore(database: db)
            let limit = RateLimit(count: 1, window: 30)
            let first = try await store.count(.promoUser, subject: "u", limit: limit, now: Self.t0 + 1)
            #expect(first == CountedEvent(name: .promoUser, subject: "u", bucketStart: 1_800_000_000))
            #expect(try await store.count(.promoUser, subject: "u", limit: limit, now: Self.t0 + 59) == nil)
            #expect(try await store.retryAfter(.promoUser, subject: "u", limit: limit, now: Self.t0 + 59) == 1)
            #expect(try await store.count(.promoUser, subject: "u", limit: limit, now: Self.t0 + 60) != nil)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func reservingSeveralLimitsIsAllOrNone(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { _, db in
            let limits = try RateLimits(parsing: "login_email=5/1m,login_ip=1/1m")
            let limiter = RateLimiter(store: RateLimitStore(database: db), limits: limits, proxies: .none, clock: { Self.t0 })
            try await limiter.reserve([(.loginEmail, "a@example.com"), (.loginIP, "192.0.2.1")])
            await #expect(throws: RateLimitExceeded(name: .loginIP, retryAfter: 60)) {
                try await limiter.reserve([(.loginEmail, "b@example.com"), (.loginIP, "192.0.2.1")])
            }
            // b's email count was given back when the address refused.
            #expect(try await db.events(.loginEmail) == 1)
            // Emails are stored as their SHA-256 only.
            #expect(try await db.count("rate_limit_buckets", where: "subject = '\(sha256Hex("a@example.com"))'") == 1)
            #expect(try await db.count("rate_limit_buckets", where: "subject LIKE '%@%'") == 0)
        }
    }
}
