import SQLKit

extension Migration {
    static let effectJobs = Migration(version: 4, name: "effect jobs") { d in
        [
            """
            CREATE TABLE effect_jobs (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                effect_id TEXT NOT NULL,
                effect_name TEXT NOT NULL,
                video_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES videos (id),
                status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
                credits_charged INTEGER NOT NULL CHECK (credits_charged > 0),
                usage_transaction_id \(unsafeRaw: d.uuidType) NOT NULL,
                refund_transaction_id \(unsafeRaw: d.uuidType),
                output_url TEXT,
                error TEXT,
                claimed_at \(unsafeRaw: d.timestampType),
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                updated_at \(unsafeRaw: d.timestampType) NOT NULL
            )
            """,
            "CREATE INDEX effect_jobs_queue ON effect_jobs (created_at, id) WHERE status = 'queued'",
            "CREATE INDEX effect_jobs_running ON effect_jobs (claimed_at) WHERE status = 'running'",
            "CREATE INDEX effect_jobs_by_user ON effect_jobs (user_id, created_at DESC, id DESC)",
        ]
    }
}
