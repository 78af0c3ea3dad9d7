import Foundation
import JWTKit
import Testing

@testable import Reelbase

@Suite("Sessions: logout and reuse detection end the access tokens too")
struct SessionTests {
    /// Signs claims with the fixture's JWT secret, as the app would.
    static func sign(_ claims: some JWTPayload) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: try #require(TestApp.baseSettings["jwt.secret"])), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    /// The session an access token names (its `sid`).
    static func session(of accessToken: String) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: try #require(TestApp.baseSettings["jwt.secret"])), digestAlgorithm: .sha256)
        return try await keys.verify(accessToken, as: AccessTokenClaims.self).sid
    }

    static func expectEnded(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try response.expectProblem(401, code: "unauthorized", sourceLocation: sourceLocation)
        #expect(response.headers[.wwwAuthenticate] == "Bearer", sourceLocation: sourceLocation)
    }

    @Test(arguments: TestDatabase.allCases)
    func logoutEndsItsSessionsAccessTokensOnly(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            let refreshed = try await client.post("/v1/auth/refresh", json: ["refresh_token": user.refreshToken]).decode(API.Auth.self)
            let otherLogin = try await client.post("/v1/auth/login", json: ["email": user.email, "password": user.password])
                .decode(API.Auth.self)
            #expect(try await Self.session(of: refreshed.accessToken) == Self.session(of: user.accessToken))
            #expect(try await Self.session(of: otherLogin.accessToken) != Self.session(of: user.accessToken))
            #expect(try await client.get("/v1/users/me", token: user.accessToken).status == .ok)

            let logout = try await client.post("/v1/auth/logout", json: ["refresh_token": refreshed.refreshToken])
            #expect(logout.status == .noContent)
            // Both access tokens of the ended session, the first and the one the rotation issued, on every route.
            try Self.expectEnded(try await client.get("/v1/users/me", token: user.accessToken))
            try Self.expectEnded(try await client.get("/v1/users/me", token: refreshed.accessToken))
            try Self.expectEnded(try await client.get("/v1/videos/", token: refreshed.accessToken))
            try await client.post("/v1/auth/refresh", json: ["refresh_token": refreshed.refreshToken])
                .expectProblem(401, code: "invalid_refresh_token")
            // The other login is another session.
            #expect(try await client.get("/v1/users/me", token: otherLogin.accessToken).status == .ok)
            // Logging out twice, or with an unknown token, is still 204.
            #expect(try await client.post("/v1/auth/logout", json: ["refresh_token": refreshed.refreshToken]).status == .noContent)
            #expect(try await client.post("/v1/auth/logout", json: ["refresh_token": "garbage"]).status == .noContent)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func reuseDetectionEndsTheSession(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            let rotated = try await client.post("/v1/auth/refresh", json: ["refresh_token": user.refreshToken]).decode(API.Auth.self)
            #expect(try await client.get("/v1/users/me", token: rotated.accessToken).status == .ok)

            try await client.post("/v1/auth/refresh", json: ["refresh_token": user.refreshToken])
                .expectProblem(401, code: "refresh_token_reused")
            try Self.expectEnded(try await client.get("/v1/users/me", token: rotated.accessToken))
            try Self.expectEnded(try await client.get("/v1/users/me", token: user.accessToken))
        }
    }

    /// Claims as older tokens had them, with no `sid`.
    struct ClaimsWithoutSession: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    @Test(arguments: TestDatabase.allCases)
    func aTokenMustNameALiveSessionOfItsOwnUser(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            let other = try await client.register()
            let soon = ExpirationClaim(value: Date().addingTimeInterval(600))

            let noSession = try await Self.sign(ClaimsWithoutSession(sub: .init(value: user.id), exp: soon, iat: .init(value: Date())))
            try Self.expectEnded(try await client.get("/v1/users/me", token: noSession))
            let unknownSession = try await Self.sign(
                AccessTokenClaims(sub: .init(value: user.id), sid: UUID().uuidString.lowercased(), exp: soon, iat: .init(value: Date())))
            try Self.expectEnded(try await client.get("/v1/users/me", token: unknownSession))
            let othersSession = try await Self.sign(
                AccessTokenClaims(
                    sub: .init(value: user.id), sid: try await Self.session(of: other.accessToken), exp: soon, iat: .init(value: Date())))
            try Self.expectEnded(try await client.get("/v1/users/me", token: othersSession))
            // The same claims with the user's own session pass: only the session made the difference.
            let own = try await Self.sign(
                AccessTokenClaims(
                    sub: .init(value: user.id), sid: try await Self.session(of: user.accessToken), exp: soon, iat: .init(value: Date())))
            #expect(try await client.get("/v1/users/me", token: own).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aSuspendedAccountsTokensAnswer401AccountSuspended(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            let userID = try #require(UUID(uuidString: user.id))
            try await db.sql.raw("UPDATE users SET suspended_at = \(db.dialect.now) WHERE id = \(bind: userID)").run()
            let suspended = try await client.get("/v1/users/me", token: user.accessToken)
            try suspended.expectProblem(401, code: "account_suspended")
            #expect(suspended.headers[.wwwAuthenticate] == "Bearer")
            // Unsuspending makes the unexpired token valid again.
            try await db.sql.raw("UPDATE users SET suspended_at = NULL WHERE id = \(bind: userID)").run()
            #expect(try await client.get("/v1/users/me", token: user.accessToken).status == .ok)
        }
    }
}
