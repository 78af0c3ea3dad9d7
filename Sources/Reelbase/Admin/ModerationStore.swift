import Foundation
import SQLKit

/// Which accounts `GET /v1/admin/users` lists.
struct AccountFilter: Sendable, Equatable {
    /// A prefix of the email or the username, lowercased (both are stored lowercased).
    var prefix: String?
    var role: UserRole?
    var suspended: Bool?
}

/// An account as the console lists it, whatever its visibility.
struct AccountRecord: SQLRowReadable {
    var user: UserRecord
    var suspendedAt: Date?
    var sortKey: Double

    init(row: any SQLRow) throws {
        self.user = try UserRecord(row: row)
        self.suspendedAt = try row.decodeIfPresent(column: "suspended_at", as: Date.self)
        self.sortKey = try row.decode(column: "account_sort_key", as: Double.self)
    }

    var cursor: FeedCursor { FeedCursor(instant: self.sortKey, id: self.user.id) }
}

/// One moderation-log row with its actor (`nil` for the operator's command line).
struct ModerationLogRecord: SQLRowReadable {
    var id: UUID
    var actor: UserRecord?
    /// Text rather than ``ModerationAction``: the log keeps what older and newer versions wrote.
    var action: String
    var targetType: String
    var targetID: String
    var note: String?
    var createdAt: Date
    var sortKey: Double

    init(row: any SQLRow) throws {
        self.id = try row.decode(column: "entry_id", as: UUID.self)
        // The actor's columns come from a LEFT JOIN: all NULL for the command line.
        let actorID = try row.decodeIfPresent(column: "actor_id", as: UUID.self)
        self.actor = try actorID.map { _ in try UserRecord(row: row) }
        self.action = try row.decode(column: "action", as: String.self)
        self.targetType = try row.decode(column: "target_type", as: String.self)
        self.targetID = try row.decode(column: "target_id", as: String.self)
        self.note = try row.decodeIfPresent(column: "note", as: String.self)
        self.createdAt = try row.decode(column: "entry_created_at", as: Date.self)
        self.sortKey = try row.decode(column: "entry_sort_key", as: Double.self)
    }

    var cursor: FeedCursor { FeedCursor(instant: self.sortKey, id: self.id) }
}

/// The moderation endpoints that act outside a report, and the console's lists.
protocol ModerationStore: Sendable {
    func suspend(_ userID: UUID, reason: String, by moderator: Moderator) async throws -> Suspension
    func unsuspend(_ userID: UUID, by moderator: Moderator) async throws -> Suspension
    /// Undoes a removal; throws ``ModerationError/videoNotFound`` for an unknown or deleted video.
    func restore(videoID: UUID, by moderator: Moderator) async throws
    /// Accounts newest first, suspended ones included.
    func accounts(_ filter: AccountFilter, after: FeedCursor?, limit: Int) async throws -> Page<AccountRecord>
    /// The moderation log, newest first.
    func log(after: FeedCursor?, limit: Int) async throws -> Page<ModerationLogRecord>
}

struct SQLModerationStore: ModerationStore {
    let database: Database

    private var dialect: SQLDialectKind { self.database.dialect }
    private var actions: ModerationActions { ModerationActions(dialect: self.dialect) }

    func suspend(_ userID: UUID, reason: String, by moderator: Moderator) async throws -> Suspension {
        try await self.database.transaction { connection in
            try await self.actions.suspend(userID, reason: reason, by: moderator, on: connection)
        }
    }

    func unsuspend(_ userID: UUID, by moderator: Moderator) async throws -> Suspension {
        try await self.database.transaction { connection in
            try await self.actions.unsuspend(userID, by: moderator, on: connection)
        }
    }

    func restore(videoID: UUID, by moderator: Moderator) async throws {
        try await self.database.transaction { connection in
            try await self.actions.restoreVideo(videoID, by: moderator, on: connection)
        }
    }

    func accounts(_ filter: AccountFilter, after: FeedCursor?, limit: Int) async throws -> Page<AccountRecord> {
        var query: SQLQueryString = """
            SELECT \(UserRecord.columns), users.suspended_at, \(self.dialect.exactInstant("users.created_at")) AS account_sort_key
            FROM users WHERE 1 = 1
            """
        if let prefix = filter.prefix {
            // `substr` rather than `LIKE`: no wildcard to escape (`_` is common in usernames), and the same on both.
            // The length cast, since PostgreSQL's `substr` takes an `integer` and an `Int` binds as `bigint`.
            let length: SQLQueryString = "CAST(\(bind: prefix.lengthInCodePoints) AS INTEGER)"
            query = query + " AND (substr(users.email, 1, \(length)) = \(bind: prefix) OR substr(users.username, 1, \(length)) = \(bind: prefix))"
        }
        if let role = filter.role {
            query = query + " AND users.role = \(literal: role.rawValue)"
        }
        if let suspended = filter.suspended {
            query = query + (suspended ? " AND users.suspended_at IS NOT NULL" : " AND users.suspended_at IS NULL")
        }
        if let after {
            query = query + " AND (users.created_at, users.id) < (\(self.dialect.instant(exact: after.instant)), \(bind: after.id))"
        }
        query = query + " ORDER BY users.created_at DESC, users.id DESC \(limit: limit + 1)"
        let rows = try await self.database.sql.raw(query).all(reading: AccountRecord.self)
        return Page(rows: rows, limit: limit, key: \.cursor)
    }

    func log(after: FeedCursor?, limit: Int) async throws -> Page<ModerationLogRecord> {
        var query: SQLQueryString = """
            SELECT moderation_log.id AS entry_id, moderation_log.actor_id, moderation_log.action, moderation_log.target_type,
                   moderation_log.target_id, moderation_log.note, moderation_log.created_at AS entry_created_at,
                   \(self.dialect.exactInstant("moderation_log.created_at")) AS entry_sort_key, \(UserRecord.columns)
            FROM moderation_log LEFT JOIN users ON users.id = moderation_log.actor_id
            """
        if let after {
            query = query
                + " WHERE (moderation_log.created_at, moderation_log.id) < (\(self.dialect.instant(exact: after.instant)), \(bind: after.id))"
        }
        query = query + " ORDER BY moderation_log.created_at DESC, moderation_log.id DESC \(limit: limit + 1)"
        let rows = try await self.database.sql.raw(query).all(reading: ModerationLogRecord.self)
        return Page(rows: rows, limit: limit, key: \.cursor)
    }
}
