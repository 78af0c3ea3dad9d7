import SQLKit

extension Migration {
    static let usersAndAuth = Migration(version: 1, name: "users and auth") { d in
        [
            """
            CREATE TABLE users (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                email TEXT NOT NULL,
                username TEXT NOT NULL,
                display_name TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                bio TEXT,
                avatar_url TEXT,
                follower_count \(unsafeRaw: d.bigintType) NOT NULL DEFAULT 0 CHECK (follower_count >= 0),
                following_count \(unsafeRaw: d.bigintType) NOT NULL DEFAULT 0 CHECK (following_count >= 0),
                video_count \(unsafeRaw: d.bigintType) NOT NULL DEFAULT 0 CHECK (video_count >= 0),
                credits \(unsafeRaw: d.bigintType) NOT NULL DEFAULT 0 CHECK (credits >= 0),
                ledger_sequence \(unsafeRaw: d.bigintType) NOT NULL DEFAULT 0,
                created_at \(unsafeRaw: d.timestampType) NOT NULL
            )
            """,
            // Emails are stored lowercased, so uniqueness and login are case-insensitive.
            "CREATE UNIQUE INDEX users_email_key ON users (email)",
            "CREATE UNIQUE INDEX users_username_key ON users (username)",
            """
            CREATE TABLE refresh_tokens (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                family_id \(unsafeRaw: d.uuidType) NOT NULL,
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                token_hash TEXT NOT NULL,
                expires_at \(unsafeRaw: d.timestampType) NOT NULL,
                used_at \(unsafeRaw: d.timestampType),
                revoked_at \(unsafeRaw: d.timestampType),
                created_at \(unsafeRaw: d.timestampType) NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash)",
            "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
        ]
    }
}
