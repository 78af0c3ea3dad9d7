import Foundation
import SQLKit

/// Why a notification request was refused.
enum NotificationError: Error, Sendable, Equatable {
    /// `up_to` names no notification of the caller's.
    case notFound
}

/// Writes notifications inside the transaction of their cause (a like, a follow, a job ending, a payment settling, a
/// moderation), and appends each to the recipient's event outbox there too, so that the row and its live event commit
/// or vanish together.
struct NotificationWriter: Sendable {
    let dialect: SQLDialectKind

    /// Writes `notification` on `connection` (inside a write transaction) unless a rule says none: the actor is the
    /// recipient, a block stands between the two (checked in the statement, which the cause's own serialisation with
    /// block creation makes current), or it is a second `like` of a liker and video or `follow` of a pair (unique keys).
    @discardableResult
    func write(_ notification: NewNotification, on connection: any SQLDatabase) async throws -> UUID? {
        if let actor = notification.actorID, actor == notification.recipientID { return nil }
        let uuid = self.dialect.uuidType
        let condition: SQLQueryString = notification.actorID.map {
            Visibility.noBlock(between: "\(bind: notification.recipientID)", and: "\(bind: $0)")
        } ?? "1 = 1"
        // Typed binds: in `INSERT … SELECT` PostgreSQL cannot infer a NULL parameter's type from the target column.
        let id = UUID()
        let inserted = try await connection.raw(
            """
            INSERT INTO notifications (id, recipient_id, type, actor_id, video_id, job_id, credits, detail, created_at)
            SELECT \(bind: id), \(bind: notification.recipientID), \(bind: notification.kind.rawValue),
                   CAST(\(bind: notification.actorID) AS \(unsafeRaw: uuid)), CAST(\(bind: notification.videoID) AS \(unsafeRaw: uuid)),
                   CAST(\(bind: notification.jobID) AS \(unsafeRaw: uuid)), CAST(\(bind: notification.credits) AS \(unsafeRaw: self.dialect.bigintType)),
                   CAST(\(bind: notification.detail) AS TEXT), \(self.dialect.now)
            WHERE \(condition)
            ON CONFLICT DO NOTHING
            RETURNING id
            """
        ).first()
        guard inserted != nil else { return nil }
        // The event names the notification only; streams render it when they send it (``SQLNotificationStore/views``),
        // which keeps this write — often made while the cause holds its users' rows — a statement shorter.
        try await EventOutbox(dialect: self.dialect).append(
            .notification, payload: NotificationReference(id: id), for: notification.recipientID, on: connection)
        return id
    }
}

/// A user's notifications: the list, the unread count, and marking them read.
///
/// What the recipient cannot see now is left out of the list and the count (API.md): a notification whose actor is
/// suspended or on either side of a block with the recipient, and a `like` of a video the recipient cannot see. It is
/// filtered in the statement, so a page still holds `limit` rows whenever more follow.
protocol NotificationStore: Sendable {
    /// One page, newest first; `unreadOnly` keeps only those not read.
    func list(recipientID: UUID, unreadOnly: Bool, after: FeedCursor?, limit: Int) async throws -> Page<NotificationRecord>
    /// How many are unread, counted up to `cap`.
    func unreadCount(recipientID: UUID, cap: Int) async throws -> Int
    /// Marks the recipient's notifications among `ids` read (those read already keep their time) in one statement;
    /// returns which of `ids` are the recipient's.
    func markRead(_ ids: [UUID], recipientID: UUID) async throws -> Set<UUID>
    /// Marks read every unread notification of the recipient up to `upTo` (that one and every older one) or, without
    /// it, every one created by `watermark`; returns how many became read. Throws ``NotificationError/notFound`` for
    /// an `upTo` that is not the recipient's.
    func markAllRead(recipientID: UUID, upTo: UUID?, watermark: Date) async throws -> Int
}

struct SQLNotificationStore: NotificationStore {
    let database: Database

    private var dialect: SQLDialectKind { self.database.dialect }

    /// The recipient's notifications they can see now (``NotificationStore``).
    fileprivate func visible(to recipientID: UUID) -> SQLQueryString {
        let visibility = Visibility(viewer: recipientID)
        return """
            n.recipient_id = \(bind: recipientID)
            AND (n.actor_id IS NULL OR (\(visibility.user("a"))))
            AND (n.type <> \(literal: NotificationKind.like.rawValue) OR (\(visibility.video("v", owner: "vo"))))
            """
    }

    func list(recipientID: UUID, unreadOnly: Bool, after: FeedCursor?, limit: Int) async throws -> Page<NotificationRecord> {
        var query: SQLQueryString = """
            SELECT \(NotificationRecord.columns(self.dialect)) FROM notifications n \(NotificationRecord.joins)
            WHERE \(self.visible(to: recipientID))
            """
        if unreadOnly { query = query + " AND n.read_at IS NULL" }
        if let after {
            query = query + " AND (n.created_at, n.id) < (\(self.dialect.instant(exact: after.instant)), \(bind: after.id))"
        }
        query = query + " ORDER BY n.created_at DESC, n.id DESC \(limit: limit + 1)"
        let rows = try await self.database.sql.raw(query).all(decoding: NotificationRecord.self)
        return Page(rows: rows, limit: limit, key: \.cursor)
    }

    func unreadCount(recipientID: UUID, cap: Int) async throws -> Int {
        // The inner LIMIT stops the walk at the cap: a user with a million unread costs a thousand index entries.
        try await self.database.sql.raw(
            """
            SELECT COUNT(*) AS unread FROM (
                SELECT n.id FROM notifications n \(NotificationRecord.joins)
                WHERE \(self.visible(to: recipientID)) AND n.read_at IS NULL
                \(limit: cap)
            ) AS capped
            """
        ).first(decodingColumn: "unread", as: Int.self) ?? 0
    }

    func markRead(_ ids: [UUID], recipientID: UUID) async throws -> Set<UUID> {
        // One statement: the update and the answer. `COALESCE` keeps the time of those read already, which still
        // answer `true`. PostgreSQL locks the rows in id order first: an update locks rows in the order its plan
        // meets them, which differs between plans (the primary key's order, the recipient index's), so two tabs
        // marking the same notifications deadlocked (40P01 after the 1 s deadlock timeout).
        let targets: SQLQueryString = """
            SELECT id FROM notifications
            WHERE recipient_id = \(bind: recipientID) AND \(self.dialect.column("id", isIn: ids)) ORDER BY id
            """
        let marked = try await self.database.sql.raw(
            """
            UPDATE notifications SET read_at = COALESCE(read_at, \(self.dialect.now))
            WHERE id IN (\(self.dialect.locking(targets, .counterUpdate) ?? targets))
            RETURNING id
            """
        ).all(decodingColumn: "id", as: UUID.self)
        return Set(marked)
    }

    /// The position of a notification in the list order.
    private struct Position: Decodable {
        var createdAt: Double
        var id: UUID
        enum CodingKeys: String, CodingKey {
            case id
            case createdAt = "sort_key"
        }
    }

    func markAllRead(recipientID: UUID, upTo: UUID?, watermark: Date) async throws -> Int {
        let dialect = self.dialect
        return try await self.database.transaction { connection in
            var bound: SQLQueryString = "created_at <= \(bind: watermark)"
            if let upTo {
                guard
                    let position = try await connection.raw(
                        """
                        SELECT id, \(dialect.exactInstant("created_at")) AS sort_key FROM notifications
                        WHERE id = \(bind: upTo) AND recipient_id = \(bind: recipientID)
                        """
                    ).first(decoding: Position.self)
                else { throw NotificationError.notFound }
                bound = bound + " AND (created_at, id) <= (\(dialect.instant(exact: position.createdAt)), \(bind: position.id))"
            }
            return try await connection.raw(
                """
                UPDATE notifications SET read_at = \(dialect.now)
                WHERE recipient_id = \(bind: recipientID) AND read_at IS NULL AND \(bound)
                RETURNING id
                """
            ).all().count
        }
    }
}

/// The payload of a `notification` event in the outbox.
struct NotificationReference: Codable, Sendable {
    var id: UUID
}

extension SQLNotificationStore {
    /// The recipient's notifications among `ids` as the list shows them (those the recipient cannot see now left out),
    /// as JSON, for the streams: one statement for a batch of events.
    func views(_ ids: [UUID], recipientID: UUID) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        let records = try await self.database.sql.raw(
            """
            SELECT \(NotificationRecord.columns(self.database.dialect)) FROM notifications n \(NotificationRecord.joins)
            WHERE \(self.visible(to: recipientID)) AND \(self.database.dialect.column("n.id", isIn: ids))
            """
        ).all(decoding: NotificationRecord.self)
        var views: [UUID: String] = [:]
        for record in records {
            views[record.id] = String(decoding: try JSONCoding.encoder.encode(record.view), as: UTF8.self)
        }
        return views
    }
}

extension NotificationRecord {
    /// ``columns`` and the list key, `sort_key`.
    static func columns(_ dialect: SQLDialectKind) -> SQLQueryString {
        Self.columns + ", \(dialect.exactInstant("n.created_at")) AS sort_key"
    }
}
