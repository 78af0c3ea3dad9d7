import Foundation
import SQLKit

/// A refresh token just minted, and the session (its family) it continues, which the access tokens issued with it name.
struct IssuedRefreshToken: Sendable {
    var token: String
    var sessionID: UUID
}

/// What presenting a refresh token led to.
enum RefreshOutcome: Sendable {
    /// The token was live: it is now spent and `newToken` (same family) replaces it.
    case rotated(userID: UUID, newToken: IssuedRefreshToken)
    /// Unknown, expired or revoked.
    case invalid
    /// The token had already been spent: someone replayed it, so its whole family is now revoked.
    case reused
    /// The token is live but its account is suspended: it was left as it was, to work again after unsuspension.
    case suspended
}

/// Refresh tokens, stored only as SHA-256 hashes and grouped in families: one family per login, every rotation
/// staying in it, so that replaying a spent token can revoke every token descended from that login. A family is a
/// session (a `sessions` row of the same id): revoking the family ends the session, and with it its access tokens.
protocol RefreshTokenStore: Sendable {
    /// Mints a token starting a new family and session (a login or a registration).
    func issue(userID: UUID, on connection: any SQLDatabase) async throws -> IssuedRefreshToken
    /// Rotates a live token; replaying a spent one revokes its family and ends its session.
    func rotate(_ token: String) async throws -> RefreshOutcome
    /// Revokes the family of `token` and ends its session; unknown tokens are ignored.
    func revokeFamily(of token: String) async throws
    /// Deletes tokens that expired before `cutoff` (housekeeping).
    func prune(expiredBefore cutoff: Date) async throws
}

struct SQLRefreshTokenStore: RefreshTokenStore {
    let database: Database
    let ttl: Int

    func issue(userID: UUID, on connection: any SQLDatabase) async throws -> IssuedRefreshToken {
        let sessionID = UUID()
        try await connection.raw(
            "INSERT INTO sessions (id, user_id, created_at) VALUES (\(bind: sessionID), \(bind: userID), \(self.database.dialect.now))"
        ).run()
        return try await self.insert(userID: userID, familyID: sessionID, on: connection)
    }

    private func insert(userID: UUID, familyID: UUID, on connection: any SQLDatabase) async throws -> IssuedRefreshToken {
        let token = TokenIssuer.newRefreshToken()
        let expiresAt = Date().addingTimeInterval(TimeInterval(self.ttl))
        try await connection.raw(
            """
            INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at)
            VALUES (\(bind: UUID()), \(bind: familyID), \(bind: userID), \(bind: TokenIssuer.hash(refreshToken: token)),
                    \(bind: expiresAt), \(self.database.dialect.now))
            """
        ).run()
        return IssuedRefreshToken(token: token, sessionID: familyID)
    }

    /// The columns of a stored token that rotating it reads.
    private struct StoredToken: Decodable {
        var id: UUID
        var familyID: UUID
        var userID: UUID
        var expiresAt: Date
        var usedAt: Date?
        var revokedAt: Date?
        var suspendedAt: Date?

        enum CodingKeys: String, CodingKey {
            case id
            case familyID = "family_id"
            case userID = "user_id"
            case expiresAt = "expires_at"
            case usedAt = "used_at"
            case revokedAt = "revoked_at"
            case suspendedAt = "suspended_at"
        }
    }

    func rotate(_ token: String) async throws -> RefreshOutcome {
        let dialect = self.database.dialect
        return try await self.database.transaction { connection in
            guard
                let stored = try await connection.raw(
                    """
                    SELECT id, family_id, user_id, expires_at, used_at, revoked_at,
                           (SELECT suspended_at FROM users WHERE users.id = refresh_tokens.user_id) AS suspended_at
                    FROM refresh_tokens WHERE token_hash = \(bind: TokenIssuer.hash(refreshToken: token))\(dialect.forUpdate)
                    """
                ).first(decoding: StoredToken.self)
            else { return .invalid }
            if stored.revokedAt != nil {
                return .invalid
            }
            if stored.usedAt != nil {
                try await self.revoke(family: stored.familyID, on: connection)
                return .reused
            }
            if stored.expiresAt <= Date() {
                return .invalid
            }
            if stored.suspendedAt != nil {
                return .suspended
            }
            try await connection.raw("UPDATE refresh_tokens SET used_at = \(dialect.now) WHERE id = \(bind: stored.id)").run()
            let newToken = try await self.insert(userID: stored.userID, familyID: stored.familyID, on: connection)
            return .rotated(userID: stored.userID, newToken: newToken)
        }
    }

    func revokeFamily(of token: String) async throws {
        try await self.database.transaction { connection in
            guard
                let familyID = try await connection.raw(
                    "SELECT family_id FROM refresh_tokens WHERE token_hash = \(bind: TokenIssuer.hash(refreshToken: token))"
                ).first(decodingColumn: "family_id", as: UUID.self)
            else { return }
            try await self.revoke(family: familyID, on: connection)
        }
    }

    /// Kills every token of the family and ends its session: from the next request on, its access tokens and event
    /// tickets answer `401`, and its open event streams end (on every instance, through the outbox).
    private func revoke(family familyID: UUID, on connection: any SQLDatabase) async throws {
        let now = self.database.dialect.now
        try await connection.raw(
            "UPDATE refresh_tokens SET revoked_at = \(now) WHERE family_id = \(bind: familyID) AND revoked_at IS NULL"
        ).run()
        let ended = try await connection.raw(
            "UPDATE sessions SET revoked_at = \(now) WHERE id = \(bind: familyID) AND revoked_at IS NULL RETURNING user_id"
        ).first(decodingColumn: "user_id", as: UUID.self)
        if let ended {
            try await EventOutbox(dialect: self.database.dialect).append(.close, payload: StreamClosure.session(familyID), for: ended, on: connection)
        }
    }

    func prune(expiredBefore cutoff: Date) async throws {
        try await self.database.sql.raw("DELETE FROM refresh_tokens WHERE expires_at < \(bind: cutoff)").run()
    }
}
