import SQLKit

extension Migration {
    static let blocksAndBookmarks = Migration(version: 9, name: "blocks, bookmarks, removed videos") { d in
        [
            // A moderator's removal hides a video from everyone, its owner included, and can be undone: a time, not a
            // deletion. `NULL` is a video not removed.
            "ALTER TABLE videos ADD COLUMN removed_at \(unsafeRaw: d.timestampType)",
            // The feeds' keysets again, now over videos neither deleted nor removed: every feed query states both
            // conditions (see `Visibility`), so the partial indexes still apply and hold only what a feed shows.
            "DROP INDEX videos_feed",
            "CREATE INDEX videos_feed ON videos (created_at DESC, id DESC) WHERE deleted_at IS NULL AND removed_at IS NULL",
            "DROP INDEX videos_by_user",
            """
            CREATE INDEX videos_by_user ON videos (user_id, created_at DESC, id DESC)
            WHERE deleted_at IS NULL AND removed_at IS NULL
            """,
            // One row per direction: A blocks B. Visibility checks probe the primary key both ways round.
            """
            CREATE TABLE blocks (
                blocker_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                blocked_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                PRIMARY KEY (blocker_id, blocked_id),
                CHECK (blocker_id <> blocked_id)
            )
            """,
            // Who blocks a user (the reverse direction), and the keyset of `GET /v1/blocks`, newest block first.
            "CREATE INDEX blocks_by_blocked ON blocks (blocked_id, blocker_id)",
            "CREATE INDEX blocks_list ON blocks (blocker_id, created_at DESC, blocked_id DESC)",
            // A hidden video keeps its bookmarks (they return with it); a deleted one loses them: `VideoStore` deletes
            // them with the video, and the cascade covers a row that is ever removed outright.
            """
            CREATE TABLE bookmarks (
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                video_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                PRIMARY KEY (user_id, video_id)
            )
            """,
            // The keyset of `GET /v1/bookmarks`, newest bookmark first.
            "CREATE INDEX bookmarks_list ON bookmarks (user_id, created_at DESC, video_id DESC)",
        ]
    }
}
