import Foundation
import SQLKit

/// What authenticating a request learns about its caller: whether the session still stands, whether the account is
/// suspended, and its role, so that role checks need no second query.
struct SessionState: Sendable, Decodable {
    var role: UserRole
    var suspendedAt: Date?
    var revokedAt: Date?

    enum CodingKeys: String, CodingKey {
        case role
        case suspendedAt = "suspended_at"
        case revokedAt = "revoked_at"
    }
}

/// The per-request session check.
protocol SessionStore: Sendable {
    /// The state of `userID`'s session `sessionID`, or `nil` if no such session exists.
    func state(session sessionID: UUID, userID: UUID) async throws -> SessionState?
}

struct SQLSessionStore: SessionStore {
    let database: Database

    /// One statement on two primary keys: every authenticated request pays for it, so it must stay this small.
    func state(session sessionID: UUID, userID: UUID) async throws -> SessionState? {
        try await self.database.sql.raw(
            """
            SELECT u.role, u.suspended_at, s.revoked_at FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.id = \(bind: sessionID) AND s.user_id = \(bind: userID)
            """
        ).first(decoding: SessionState.self)
    }
}
