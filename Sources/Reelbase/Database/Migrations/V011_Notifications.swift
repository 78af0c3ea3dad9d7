import SQLKit

extension Migration {
    static let notifications = Migration(version: 11, name: "notifications, the per-user event outbox, event tickets and streams") { d in
        let statements: [SQLQueryString] = [
            // One row per notification. `actor_id` and `video_id` say who and what it is about; `job_id` and `credits`
            // carry the effect job and the credits moved; `detail` holds what only the text needs (a resolution).
            """
            CREATE TABLE notifications (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                recipient_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                type TEXT NOT NULL CHECK (type IN ('like', 'follow', 'effect_succeeded', 'effect_failed', 'purchase_credited',
                    'payment_refunded', 'subscription_renewed', 'subscription_payment_failed', 'credits_expiring',
                    'referral_rewarded', 'report_resolved', 'video_removed')),
                actor_id \(unsafeRaw: d.uuidType) REFERENCES users (id),
                video_id \(unsafeRaw: d.uuidType) REFERENCES videos (id),
                job_id \(unsafeRaw: d.uuidType),
                credits \(unsafeRaw: d.bigintType),
                detail TEXT,
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                read_at \(unsafeRaw: d.timestampType),
                CHECK (actor_id IS NULL OR actor_id <> recipient_id)
            )
            """,
            // The list (newest first) and its unread filter, which the unread count walks too.
            "CREATE INDEX notifications_list ON notifications (recipient_id, created_at DESC, id DESC)",
            "CREATE INDEX notifications_unread ON notifications (recipient_id, created_at DESC, id DESC) WHERE read_at IS NULL",
            // One `like` per liker and video and one `follow` per pair, ever: a second like after an unlike, or a
            // refollow, finds the row and adds nothing (`ON CONFLICT DO NOTHING`).
            "CREATE UNIQUE INDEX notifications_like_once ON notifications (actor_id, video_id) WHERE type = 'like'",
            "CREATE UNIQUE INDEX notifications_follow_once ON notifications (actor_id, recipient_id) WHERE type = 'follow'",
            // Each user's event counter: the row is locked by the transaction that bumps it until that commits, so a
            // user's events commit in the order of their numbers and a reader that has seen number n never misses a
            // smaller one committing later.
            """
            CREATE TABLE event_sequences (
                user_id \(unsafeRaw: d.uuidType) PRIMARY KEY REFERENCES users (id),
                last_seq \(unsafeRaw: d.bigintType) NOT NULL
            )
            """,
            // The outbox: every event a user's streams send, written in the transaction of its cause, read by the
            // streams of every instance after commit (woken by `NOTIFY reelbase_events` on PostgreSQL, see
            // `Database.announce`), kept for EVENT_REPLAY_SECONDS for resumption.
            """
            CREATE TABLE events (
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                seq \(unsafeRaw: d.bigintType) NOT NULL,
                type TEXT NOT NULL,
                payload TEXT NOT NULL,
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                PRIMARY KEY (user_id, seq)
            )
            """,
            "CREATE INDEX events_by_age ON events (created_at)",
            // Single-use tickets for `GET /v1/events?ticket=`, stored as SHA-256 hashes like refresh tokens, so any
            // instance can redeem one and a database leak reveals none.
            """
            CREATE TABLE event_tickets (
                token_hash TEXT PRIMARY KEY,
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                session_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES sessions (id),
                expires_at \(unsafeRaw: d.timestampType) NOT NULL
            )
            """,
            "CREATE INDEX event_tickets_by_expiry ON event_tickets (expires_at)",
            // The open streams of every instance, for the limit of 5 per user: the newest five rows stand, an older one
            // is told to close through the outbox. A row left by a crashed instance is simply the oldest and goes first.
            """
            CREATE TABLE event_streams (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                opened_at \(unsafeRaw: d.timestampType) NOT NULL
            )
            """,
            "CREATE INDEX event_streams_by_user ON event_streams (user_id, opened_at DESC, id DESC)",
        ]
        return statements
    }
}
