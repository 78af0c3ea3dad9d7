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

    func rotate(_ token: String) async throws -> RefreshOutcome {
        let dialect = self.database.dialect
        return try await self.database.transaction { connection in
            guard
                let row = try await connection.raw(
                    """
                    SELECT id, family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens
                    WHERE token_hash = \(bind: TokenIssuer.hash(refreshToken: token))\(dialect.forUpdate)
                    """
                ).first()
            else { return .invalid }
            let id = try row.decode(column: "id", as: UUID.self)
            let familyID = try row.decode(column: "family_id", as: UUID.self)
            let userID = try row.decode(column: "user_id", as: UUID.self)
            if try row.decode(column: "revoked_at", as: Date?.self) != nil {
                return .invalid
            }
            if try row.decode(column: "used_at", as: Date?.self) != nil {
                try await connection.raw(
                    "UPDATE refresh_tokens SET revoked_at = \(dialect.now) WHERE family_id = \(bind: familyID) AND revoked_at IS NULL"
                ).run()
                return .reused
            }
            if try row.decode(column: "expires_at", as: Date.self) <= Date() {
                return .invalid
            }
            try await connection.raw("UPDATE refresh_tokens SET used_at = \(dialect.now) WHERE id = \(bind: id)").run()
            let newToken = try await self.insert(userID: userID, familyID: familyID, on: connection)
            return .rotated(userID: userID, newToken: newToken)
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
}
