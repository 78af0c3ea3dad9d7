import Foundation
import SQLKit

/// One event counted in a bucket, kept so that it can be given back to the bucket it went into.
struct CountedEvent: Sendable, Equatable {
    var name: RateLimitName
    var subject: String
    var bucketStart: Int
}

/// Rate-limit counts in `rate_limit_buckets`: one row per limit, subject and minute, shared by every instance.
///
/// Times are whole Unix seconds (bucket starts are multiples of 60), so the window arithmetic is plain integer SQL
/// on both databases.
struct RateLimitStore: Sendable {
    let database: Database
    static let bucketSeconds = 60

    /// Counts one event unless the window already holds `limit.count`: `nil` when full, and then nothing was counted.
    ///
    /// One statement decides and counts. The current bucket's own count is read from the row the upsert locks, so
    /// concurrent events on one subject (on any instance) queue on that row and never pass a full window together;
    /// earlier buckets are only ever lowered meanwhile (a give-back), which can only make the check stricter.
    func count(_ name: RateLimitName, subject: String, limit: RateLimit, now: Date) async throws -> CountedEvent? {
        let bucket = Self.bucketStart(now)
        let earlier = self.sum(name, subject: subject, from: bucket - (limit.windowMinutes - 1) * Self.bucketSeconds, before: bucket)
        let counted = try await self.database.sql.raw(
            """
            INSERT INTO rate_limit_buckets (limit_name, subject, bucket_start, expires_at, events)
            SELECT \(bind: name.rawValue), \(bind: subject), \(bind: bucket), \(bind: bucket + limit.windowMinutes * Self.bucketSeconds), 1
            WHERE \(earlier) < \(bind: limit.count)
            ON CONFLICT (limit_name, subject, bucket_start) DO UPDATE SET events = rate_limit_buckets.events + 1
            WHERE rate_limit_buckets.events + \(earlier) < \(bind: limit.count)
            RETURNING events
            """
        ).first()
        return counted == nil ? nil : CountedEvent(name: name, subject: subject, bucketStart: bucket)
    }

    /// Seconds from `now` until the oldest counted event of the window leaves it (at least 1).
    func retryAfter(_ name: RateLimitName, subject: String, limit: RateLimit, now: Date) async throws -> Int {
        let bucket = Self.bucketStart(now)
        let oldest = try await self.database.sql.raw(
            """
            SELECT MIN(bucket_start) AS oldest FROM rate_limit_buckets
            WHERE limit_name = \(bind: name.rawValue) AND subject = \(bind: subject) AND events > 0
              AND bucket_start >= \(bind: bucket - (limit.windowMinutes - 1) * Self.bucketSeconds)
            """
        ).first(decodingColumn: "oldest", as: Int?.self) ?? nil
        guard let oldest else { return 1 }
        let frees = Double(oldest + limit.windowMinutes * Self.bucketSeconds)
        return max(1, Int((frees - now.timeIntervalSince1970).rounded(.up)))
    }

    /// Takes counted events back out of their buckets.
    func giveBack(_ events: [CountedEvent]) async throws {
        guard !events.isEmpty else { return }
        let matching = SQLList(
            events.map { event -> SQLQueryString in
                "(limit_name = \(bind: event.name.rawValue) AND subject = \(bind: event.subject) AND bucket_start = \(bind: event.bucketStart))"
            }, separator: SQLRaw(" OR "))
        try await self.database.sql.raw("UPDATE rate_limit_buckets SET events = events - 1 WHERE events > 0 AND (\(matching))").run()
    }

    /// Deletes the buckets whose window has passed.
    func prune(now: Date) async throws {
        try await self.database.sql.raw("DELETE FROM rate_limit_buckets WHERE expires_at <= \(bind: Int(now.timeIntervalSince1970))").run()
    }

    private func sum(_ name: RateLimitName, subject: String, from start: Int, before end: Int) -> SQLQueryString {
        """
        (SELECT COALESCE(SUM(events), 0) FROM rate_limit_buckets
         WHERE limit_name = \(bind: name.rawValue) AND subject = \(bind: subject)
           AND bucket_start >= \(bind: start) AND bucket_start < \(bind: end))
        """
    }

    private static func bucketStart(_ now: Date) -> Int {
        let seconds = Int(now.timeIntervalSince1970.rounded(.down))
        return seconds - seconds % Self.bucketSeconds
    }
}
