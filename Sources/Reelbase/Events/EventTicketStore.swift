import Foundation
import SQLKit

/// Who a redeemed ticket signs in.
struct TicketHolder: Sendable, Decodable, Equatable {
    var userID: UUID
    var sessionID: UUID

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case sessionID = "session_id"
    }
}

/// Single-use tickets for `GET /v1/events?ticket=` (browsers' `EventSource` sends no headers, and an access token
/// never goes in a URL). Stored as SHA-256 hashes like refresh tokens, in the database, so any instance redeems a
/// ticket another issued; bound to the session that asked for it, so logout ends it too.
struct EventTicketStore: Sendable {
    let database: Database
    /// API.md: `expires_in: 60`.
    static let lifetime = 60

    /// A new ticket for the session.
    func issue(userID: UUID, sessionID: UUID, now: Date = Date()) async throws -> String {
        let ticket = TokenIssuer.newRefreshToken()
        try await self.database.sql.raw(
            """
            INSERT INTO event_tickets (token_hash, user_id, session_id, expires_at)
            VALUES (\(bind: TokenIssuer.hash(refreshToken: ticket)), \(bind: userID), \(bind: sessionID),
                    \(bind: now.addingTimeInterval(TimeInterval(Self.lifetime))))
            """
        ).run()
        return ticket
    }

    /// Spends the ticket: the one `DELETE` that finds it also makes it unusable, so two racing redemptions cannot
    /// both succeed. `nil` for an unknown, spent or expired ticket; whether its session still stands is the caller's
    /// check (the same as for access tokens).
    func redeem(_ ticket: String, now: Date = Date()) async throws -> TicketHolder? {
        try await self.database.sql.raw(
            """
            DELETE FROM event_tickets WHERE token_hash = \(bind: TokenIssuer.hash(refreshToken: ticket)) AND expires_at > \(bind: now)
            RETURNING user_id, session_id
            """
        ).first(decoding: TicketHolder.self)
    }

    /// Housekeeping: expired tickets can be redeemed by nobody.
    func prune(now: Date = Date()) async throws {
        try await self.database.sql.raw("DELETE FROM event_tickets WHERE expires_at <= \(bind: now)").run()
    }
}
