import Crypto
import ExtrasBase64
import Foundation
import JWTKit
import NIOCore

/// The claims of an access token: who (`sub`), in which session (`sid`, the refresh-token family), until when (`exp`),
/// since when (`iat`). A token without `sid` does not decode, so it is refused.
struct AccessTokenClaims: JWTPayload {
    var sub: SubjectClaim
    var sid: String
    var exp: ExpirationClaim
    var iat: IssuedAtClaim

    func verify(using algorithm: some JWTAlgorithm) throws {
        try self.exp.verifyNotExpired()
    }
}

/// Signs and verifies access tokens (HS256 JWTs) and mints refresh tokens.
struct TokenIssuer: Sendable {
    let keys: JWTKeyCollection
    let accessTokenTTL: Int

    init(secret: String, accessTokenTTL: Int) async {
        self.keys = JWTKeyCollection()
        await self.keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.accessTokenTTL = accessTokenTTL
    }

    /// Who a valid access token names.
    struct Bearer: Sendable {
        var userID: UUID
        var sessionID: UUID
    }

    func accessToken(for userID: UUID, session sessionID: UUID, now: Date = Date()) async throws -> String {
        let claims = AccessTokenClaims(
            sub: SubjectClaim(value: userID.lowercased),
            sid: sessionID.lowercased,
            exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(self.accessTokenTTL))),
            iat: IssuedAtClaim(value: now)
        )
        return try await self.keys.sign(claims)
    }

    /// The user and session an access token names, or `nil` if it is malformed, forged or expired. Whether the
    /// session still stands is the database's to say (``SessionStore``).
    func verifyAccessToken(_ token: String) async -> Bearer? {
        guard let claims = try? await self.keys.verify(token, as: AccessTokenClaims.self),
            let userID = UUID(text: claims.sub.value), let sessionID = UUID(text: claims.sid)
        else { return nil }
        return Bearer(userID: userID, sessionID: sessionID)
    }

    /// A new refresh token: 256 random bits, URL-safe. Only its hash is stored.
    static func newRefreshToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return self.refreshToken(bytes: (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// How a refresh token spells its random bytes: base64url without padding, so it travels in URLs and JSON as is.
    static func refreshToken(bytes: some Collection<UInt8>) -> String {
        Base64.encodeToString(bytes: bytes, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }

    static func hash(refreshToken: String) -> String {
        sha256Hex(refreshToken)
    }

    /// A random secret for development runs without `JWT_SECRET`.
    static func randomSecret() -> String {
        newRefreshToken() + newRefreshToken()
    }
}

/// Lowercase hex SHA-256 of a string's UTF-8 bytes.
func sha256Hex(_ string: String) -> String {
    ByteBuffer(bytes: SHA256.hash(data: Data(string.utf8))).hexDump(format: .compact)
}
