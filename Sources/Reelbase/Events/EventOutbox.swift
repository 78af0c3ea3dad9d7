import Foundation
import SQLKit

/// What a user's streams are told, and what only the streams themselves read.
enum EventKind: String, Codable, Sendable, CaseIterable {
    /// A notification was written (its JSON, as the list shows it).
    case notification
    /// A ledger row of the user's was written: `{balance}` after it.
    case balance
    /// An effect job of the user's changed status: the job.
    case job
    /// Not sent: tells open streams to end (a session revoked, the account suspended, a sixth stream opened).
    case close

    /// Whether clients see it.
    var isSent: Bool { self != .close }
}

/// Which of a user's streams a ``EventKind/close`` event ends.
enum StreamClosure: Codable, Sendable, Equatable {
    /// Every stream of one session (logout, refresh-token reuse).
    case session(UUID)
    /// One stream (the user opened a sixth).
    case stream(UUID)
    /// Every stream of the user (suspension).
    case account

    func ends(stream: UUID, session: UUID) -> Bool {
        switch self {
        case .session(let id): id == session
        case .stream(let id): id == stream
        case .account: true
        }
    }
}

/// One event of a user's outbox.
struct OutboxEvent: Sendable, Decodable {
    var seq: Int
    var type: String
    var payload: String

    var kind: EventKind? { EventKind(rawValue: self.type) }
}

/// The outbox of live events (API.md, "Events"): appended to in the transaction of whatever causes an event, read by
/// the streams of every instance once that commits. Each user has a sequence of their own (`event_sequences`), bumped
/// and locked by the appending transaction, so a user's events commit in the order of their numbers: a stream that
/// reads "after n" never misses one committing later with a smaller number.
struct EventOutbox: Sendable {
    let dialect: SQLDialectKind

    /// Appends an event for `userID` on `connection`, inside the caller's write transaction; returns its number.
    @discardableResult
    func append(_ kind: EventKind, payload: some Encodable, for userID: UUID, on connection: any SQLDatabase) async throws -> Int {
        let text = String(decoding: try JSONCoding.encoder.encode(payload), as: UTF8.self)
        guard
            let seq = try await connection.raw(
                """
                INSERT INTO event_sequences (user_id, last_seq) VALUES (\(bind: userID), 1)
                ON CONFLICT (user_id) DO UPDATE SET last_seq = event_sequences.last_seq + 1
                RETURNING last_seq
                """
            ).first(decodingColumn: "last_seq", as: Int.self)
        else { throw UnexpectedRow("the event sequence of \(userID.lowercased) returned no number") }
        try await connection.raw(
            """
            INSERT INTO events (user_id, seq, type, payload, created_at)
            VALUES (\(bind: userID), \(bind: seq), \(bind: kind.rawValue), \(bind: text), \(self.dialect.now))
            """
        ).run()
        PendingEvents.current?.add(userID)
        return seq
    }

    /// The user's events after `seq`, oldest first, at most `limit`.
    func events(of userID: UUID, after seq: Int, limit: Int, on database: any SQLDatabase) async throws -> [OutboxEvent] {
        try await database.raw(
            """
            SELECT seq, type, payload FROM events WHERE user_id = \(bind: userID) AND seq > \(bind: seq)
            ORDER BY seq \(limit: limit)
            """
        ).all(decoding: OutboxEvent.self)
    }

    /// The number of the user's latest event (0 before the first): where a live stream starts.
    func lastSeq(of userID: UUID, on database: any SQLDatabase) async throws -> Int {
        try await database.raw("SELECT last_seq FROM event_sequences WHERE user_id = \(bind: userID)")
            .first(decodingColumn: "last_seq", as: Int.self) ?? 0
    }

    /// Whether the user's event `seq` is still kept and no older than `since` (a resumption may replay after it).
    func isResumable(_ seq: Int, of userID: UUID, since: Date, on database: any SQLDatabase) async throws -> Bool {
        try await database.raw(
            "SELECT seq FROM events WHERE user_id = \(bind: userID) AND seq = \(bind: seq) AND created_at >= \(bind: since)"
        ).first() != nil
    }

    /// Housekeeping: events past the replay window can be replayed to nobody.
    func prune(createdBefore cutoff: Date, on database: any SQLDatabase) async throws {
        try await database.raw("DELETE FROM events WHERE created_at < \(bind: cutoff)").run()
    }
}

extension EventOutbox {
    /// `balance`: `{balance}` after one of the user's ledger rows.
    struct Balance: Encodable, Sendable {
        var balance: Int
    }
}
