import SQLKit

extension Migration {
    static let reports = Migration(version: 10, name: "reports, suspension reasons, moderation-log order") { d in
        [
            // A report names its target by kind and id (videos and users both), so `target_id` has no foreign key; the
            // report checks the target exists when it is made. Values are spelled out, as in every migration.
            """
            CREATE TABLE reports (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                reporter_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                target_type TEXT NOT NULL CHECK (target_type IN ('video', 'user')),
                target_id \(unsafeRaw: d.uuidType) NOT NULL,
                category TEXT NOT NULL CHECK (category IN ('spam', 'harassment', 'sexual', 'violence', 'illegal', 'other')),
                comment TEXT,
                status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
                resolution TEXT CHECK (resolution IN ('no_action', 'video_removed', 'user_suspended')),
                resolved_by \(unsafeRaw: d.uuidType) REFERENCES users (id),
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                resolved_at \(unsafeRaw: d.timestampType),
                CHECK ((status = 'open') = (resolution IS NULL AND resolved_at IS NULL))
            )
            """,
            // One open report per reporter and target: a repeat finds this row instead of adding one, also under races.
            "CREATE UNIQUE INDEX reports_open_once ON reports (reporter_id, target_type, target_id) WHERE status = 'open'",
            // The reporter's own list (newest first), the moderators' queue (oldest first per status), and the open
            // reports of one target (resolving them all at once, counting them in the queue).
            "CREATE INDEX reports_by_reporter ON reports (reporter_id, created_at DESC, id DESC)",
            "CREATE INDEX reports_queue ON reports (status, created_at, id)",
            "CREATE INDEX reports_open_by_target ON reports (target_type, target_id) WHERE status = 'open'",
            // The first reason of a suspension, kept while it lasts (`suspended_at` came with V008).
            "ALTER TABLE users ADD COLUMN suspension_reason TEXT",
            // The moderation log is read newest first.
            "CREATE INDEX moderation_log_newest ON moderation_log (created_at DESC, id DESC)",
        ]
    }
}
