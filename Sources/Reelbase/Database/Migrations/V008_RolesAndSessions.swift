import SQLKit

extension Migration {
    static let rolesAndSessions = Migration(version: 8, name: "roles, suspension, sessions, moderation log") { d in
        [
            // Roles live in the database, so a change applies to the next request and no configuration grants one.
            // Spelled out rather than taken from `UserRole`, so that this migration stays what it was when applied.
            "ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin'))",
            "ALTER TABLE users ADD COLUMN suspended_at \(unsafeRaw: d.timestampType)",
            // One row per refresh-token family: access tokens name it (`sid`), so ending it ends them too. The primary
            // key is the only index the per-request lookup needs.
            """
            CREATE TABLE sessions (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                revoked_at \(unsafeRaw: d.timestampType)
            )
            """,
            // Families from before sessions existed. Revocation always revoked a whole family, so one revoked token
            // means the family ended.
            """
            INSERT INTO sessions (id, user_id, created_at, revoked_at)
            SELECT family_id, user_id, MIN(created_at), MAX(revoked_at) FROM refresh_tokens GROUP BY family_id, user_id
            """,
            // Who did what to whom: role changes and credit grants now, moderation actions later. `target_id` is text
            // in the API's spelling, since targets are of several kinds.
            """
            CREATE TABLE moderation_log (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                actor_id \(unsafeRaw: d.uuidType) REFERENCES users (id),
                action TEXT NOT NULL,
                target_type TEXT NOT NULL,
                target_id TEXT NOT NULL,
                note TEXT,
                created_at \(unsafeRaw: d.timestampType) NOT NULL
            )
            """,
        ] + d.appendOnly(table: "moderation_log")
    }
}
