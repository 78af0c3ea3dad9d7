import SQLKit

extension Migration {
    static let rateLimits = Migration(version: 6, name: "rate-limit buckets, refresh-token expiry index") { d in
        [
            // One row per limit, subject and minute (`bucket_start`, Unix seconds); `expires_at` (Unix seconds) is when the
            // bucket leaves the window it was counted for, which is when housekeeping may delete it.
            """
            CREATE TABLE rate_limit_buckets (
                limit_name TEXT NOT NULL,
                subject TEXT NOT NULL,
                bucket_start \(unsafeRaw: d.bigintType) NOT NULL,
                expires_at \(unsafeRaw: d.bigintType) NOT NULL,
                events INTEGER NOT NULL CHECK (events >= 0),
                PRIMARY KEY (limit_name, subject, bucket_start)
            )
            """,
            "CREATE INDEX rate_limit_buckets_expires_at ON rate_limit_buckets (expires_at)",
            // Housekeeping deletes refresh tokens by expiry.
            "CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at)",
        ]
    }
}
