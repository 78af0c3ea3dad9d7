import SQLKit

extension Migration {
    static let socialGraph = Migration(version: 2, name: "videos, likes, follows") { d in
        [
            """
            CREATE TABLE videos (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                title TEXT NOT NULL,
                description TEXT,
                video_url TEXT NOT NULL,
                thumbnail_url TEXT,
                duration_seconds INTEGER NOT NULL CHECK (duration_seconds BETWEEN 1 AND 3600),
                like_count \(unsafeRaw: d.bigintType) NOT NULL DEFAULT 0 CHECK (like_count >= 0),
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                deleted_at \(unsafeRaw: d.timestampType)
            )
            """,
            // The feed's keyset: newest first, live videos only.
            "CREATE INDEX videos_feed ON videos (created_at DESC, id DESC) WHERE deleted_at IS NULL",
            "CREATE INDEX videos_by_user ON videos (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL",
            """
            CREATE TABLE likes (
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                video_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES videos (id),
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                PRIMARY KEY (user_id, video_id)
            )
            """,
            "CREATE INDEX likes_by_video ON likes (video_id)",
            """
            CREATE TABLE follows (
                follower_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                following_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                PRIMARY KEY (follower_id, following_id),
                CHECK (follower_id <> following_id)
            )
            """,
            // Keysets of the followers and following lists.
            "CREATE INDEX follows_followers ON follows (following_id, created_at DESC, follower_id DESC)",
            "CREATE INDEX follows_following ON follows (follower_id, created_at DESC, following_id DESC)",
        ]
    }
}
