import Foundation
import SQLKit

/// What presenting a refresh token led to.
enum RefreshOutcome: Sendable {
    /// The token was live: it is now spent and `newToken` (same family) replaces it.
    case rotated(userID: UUID, newToken: String)
    /// Unknown, expired or revoked.
    case invalid
    /// The token had already been spent: someone replayed it, so its whole family is now revoked.
    case reused
}

/// Refresh tokens, stored only as SHA-256 hashes and grouped in families: one family per login, every rotation
/// staying in it, so that replaying a spent token can revoke every token descended from that login.
protocol RefreshTokenStore: Sendable {
    /// Mints a token starting a new family (a login or a registration).
    func issue(userID: UUID, on connection: any SQLDatabase) async throws -> String
    func rotate(_ token: String) async throws -> RefreshOutcome
    /// Revokes the family of `token`; unknown tokens are ignored.
    func revokeFamily(of token: String) async throws
    /// Deletes tokens that expired before `cutoff` (housekeeping).
    func prune(expiredBefore cutoff: Date) async throws
}

struct SQLRefreshTokenStore: RefreshTokenStore {
    let database: Database
    let ttl: Int

    func issue(userID: UUID, on connection: any SQLDatabase) async throws -> String {
        try await self.insert(userID: userID, familyID: UUID(), on: connection)
    }

    private func insert(userID: UUID, familyID: UUID, on connection: any SQLDatabase) async throws -> String {
        let token = TokenIssuer.newRefreshToken()
        let expiresAt = Date().addingTimeInterval(TimeInterval(self.ttl))
        try await connection.raw(
            """
            INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at)
            VALUES (\(bind: UUID()), \(bind: familyID), \(bind: userID), \(bind: TokenIssuer.hash(refreshToken: token)),
                    \(bind: expiresAt), \(self.database.dialect.now))
            """
        ).run()
        return token
    }

    /// The columns of a stored token that rotating it reads.
    private struct StoredToken: Decodable {
        var id: UUID
        var familyID: UUID
        var userID: UUID
        var expiresAt: Date
        var usedAt: Date?
        var revokedAt: Date?

        enum CodingKeys: String, CodingKey {
            case id
            case familyID = "family_id"
            case userID = "user_id"
            case expiresAt = "expires_at"
            case usedAt = "used_at"
            case revokedAt = "revoked_at"
        }
    }

    func rotate(_ token: String) async throws -> RefreshOutcome {
        let dialect = self.database.dialect
        return try await self.database.transaction { connection in
            guard
                let stored = try await connection.raw(
                    """
                    SELECT id, family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens
                    WHERE token_hash = \(bind: TokenIssuer.hash(refreshToken: token))\(dialect.forUpdate)
                    """
                ).first(decoding: StoredToken.self)
            else { return .invalid }
            if stored.revokedAt != nil {
                return .invalid
            }
            if stored.usedAt != nil {
                try await connection.raw(
                    "UPDATE refresh_tokens SET revoked_at = \(dialect.now) WHERE family_id = \(bind: stored.familyID) AND revoked_at IS NULL"
                ).run()
                return .reused
            }
            if stored.expiresAt <= Date() {
                return .invalid
            }
            try await connection.raw("UPDATE refresh_tokens SET used_at = \(dialect.now) WHERE id = \(bind: stored.id)").run()
            let newToken = try await self.insert(userID: stored.userID, familyID: stored.familyID, on: connection)
            return .rotated(userID: stored.userID, newToken: newToken)
        }
    }

    func revokeFamily(of token: String) async throws {
        try await self.database.sql.raw(
            """
            UPDATE refresh_tokens SET revoked_at = \(self.database.dialect.now)
            WHERE revoked_at IS NULL AND family_id IN
                (SELECT family_id FROM refresh_tokens WHERE token_hash = \(bind: TokenIssuer.hash(refreshToken: token)))
            """
        ).run()
    }

    func prune(expiredBefore cutoff: Date) async throws {
        try await self.database.sql.raw("DELETE FROM refresh_tokens WHERE expires_at < \(bind: cutoff)").run()
    }
}
