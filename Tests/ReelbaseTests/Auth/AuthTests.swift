import Foundation
import JWTKit
import Testing

@testable import Reelbase

@Suite("Auth: register, login, refresh rotation, logout")
struct AuthTests {
    @Test(arguments: TestDatabase.allCases)
    func registerAnswers201WithTokensAndProfile(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let response = try await client.post(
                "/v1/auth/register",
                json: ["email": "Ann@Example.COM", "password": "correct horse", "username": "ann_1", "display_name": "Ann"]
            )
            #expect(response.status == .created)
            #expect(try keys(of: response) == ["user", "access_token", "refresh_token", "token_type", "expires_in"])
            let body = try response.decode(API.Auth.self)
            #expect(body.tokenType == "bearer")
            #expect(body.expiresIn == 900)
            #expect(
                try shape(of: response)["user"].keys == [
                    "id", "username", "display_name", "bio", "avatar_url", "follower_count", "following_count", "video_count",
                    "created_at",
                ])
            let user = body.user
            #expect(user.displayName == "Ann")
            #expect(user.bio == nil)
            let id = user.id
            #expect(id == id.lowercased() && UUID(uuidString: id) != nil)
            #expect(user.createdAt.hasSuffix("Z"))
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func emailAndUsernameAreUnique(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            _ = try await client.register(username: "bob", email: "bob@example.com")
            let sameEmail = try await client.post(
                "/v1/auth/register", json: ["email": "BOB@example.com", "password": "12345678", "username": "bobby"])
            try sameEmail.expectProblem(409, code: "email_taken")
            let sameUsername = try await client.post(
                "/v1/auth/register", json: ["email": "other@example.com", "password": "12345678", "username": "bob"])
            try sameUsername.expectProblem(409, code: "username_taken")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func registrationValidatesEveryField(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let response = try await client.post(
                "/v1/auth/register", json: ["email": "not-an-email", "password": "short", "username": "No Caps!"])
            let problem = try response.expectProblem(422, code: "validation_failed")
            let fields = try #require(problem.errors).map(\.field)
            #expect(fields == ["email", "password", "username"])
            // Nothing was written: the same email registers fine afterwards.
            _ = try await client.register(username: "valid_name", email: "valid@example.com")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func loginSucceedsAndFailuresLookAlike(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            let ok = try await client.post("/v1/auth/login", json: ["email": user.email.uppercased(), "password": user.password])
            #expect(ok.status == .ok)
            #expect(try !ok.decode(API.Auth.self).accessToken.isEmpty)

            let wrongPassword = try await client.post("/v1/auth/login", json: ["email": user.email, "password": "wrong-password"])
            let unknownEmail = try await client.post("/v1/auth/login", json: ["email": "nobody@example.com", "password": "wrong-password"])
            let first = try wrongPassword.expectProblem(401, code: "invalid_credentials")
            let second = try unknownEmail.expectProblem(401, code: "invalid_credentials")
            #expect(first.detail == second.detail)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func refreshRotatesAndReuseRevokesTheFamily(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            let first = try await client.post("/v1/auth/refresh", json: ["refresh_token": user.refreshToken])
            #expect(first.status == .ok)
            let rotated = try first.decode(API.Auth.self).refreshToken
            #expect(rotated != user.refreshToken)

            // The spent token is replayed: refused, and the family (including the rotated token) dies.
            let replay = try await client.post("/v1/auth/refresh", json: ["refresh_token": user.refreshToken])
            try replay.expectProblem(401, code: "refresh_token_reused")
            let afterReplay = try await client.post("/v1/auth/refresh", json: ["refresh_token": rotated])
            try afterReplay.expectProblem(401, code: "invalid_refresh_token")

            // Another login is another family and still works.
            let login = try await client.post("/v1/auth/login", json: ["email": user.email, "password": user.password])
            let other = try login.decode(API.Auth.self).refreshToken
            #expect(try await client.post("/v1/auth/refresh", json: ["refresh_token": other]).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func logoutRevokesTheRefreshToken(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            let logout = try await client.post("/v1/auth/logout", json: ["refresh_token": user.refreshToken])
            #expect(logout.status == .noContent)
            try await client.post("/v1/auth/refresh", json: ["refresh_token": user.refreshToken])
                .expectProblem(401, code: "invalid_refresh_token")
            try await client.post("/v1/auth/refresh", json: ["refresh_token": "garbage"])
                .expectProblem(401, code: "invalid_refresh_token")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func protectedRoutesNeedAValidToken(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            let missing = try await client.get("/v1/users/me")
            try missing.expectProblem(401, code: "unauthorized")
            #expect(missing.headers[.wwwAuthenticate] == "Bearer")
            try await client.get("/v1/users/me", token: "not.a.jwt").expectProblem(401, code: "unauthorized")
            try await client.request(.get, "/v1/users/me", headers: [.authorization: "Basic abc"]).expectProblem(401, code: "unauthorized")

            // A token signed with the right key but expired.
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: TestApp.baseSettings["jwt.secret"]!), digestAlgorithm: .sha256)
            let expired = try await keys.sign(
                AccessTokenClaims(
                    sub: .init(value: user.id), sid: UUID().uuidString.lowercased(), exp: .init(value: Date().addingTimeInterval(-60)),
                    iat: .init(value: Date().addingTimeInterval(-120))))
            try await client.get("/v1/users/me", token: expired).expectProblem(401, code: "unauthorized")

            // A token signed with another key.
            let forger = JWTKeyCollection()
            await forger.add(hmac: HMACKey(from: "some-other-secret-of-sufficient-length"), digestAlgorithm: .sha256)
            let forged = try await forger.sign(
                AccessTokenClaims(
                    sub: .init(value: user.id), sid: UUID().uuidString.lowercased(), exp: .init(value: Date().addingTimeInterval(600)),
                    iat: .init(value: Date())))
            try await client.get("/v1/users/me", token: forged).expectProblem(401, code: "unauthorized")
        }
    }
}

@Suite("Users: me, profile, patch")
struct UserTests {
    @Test(arguments: TestDatabase.allCases)
    func meShowsEmailAndCredits(_ database: TestDatabase) async throws {
        try await TestApp.run(database, settings: ["signup.bonus.credits": "50"]) { client in
            let user = try await client.register()
            let me = try await client.get("/v1/users/me", token: user.accessToken)
            #expect(me.status == .ok)
            let body = try me.decode(API.Me.self)
            #expect(body.email == user.email)
            #expect(body.credits == 50)
            #expect(body.profile.id == user.id)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func patchUpdatesClearsAndValidates(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            let updated = try await client.request(
                .patch, "/v1/users/me", token: user.accessToken,
                rawBody: #"{"display_name":"New Name","bio":"hello","avatar_url":"https://cdn.example.com/a.png"}"#)
            #expect(updated.status == .ok)
            #expect(try updated.decode(API.Profile.self).bio == "hello")
            let cleared = try await client.request(.patch, "/v1/users/me", token: user.accessToken, rawBody: #"{"bio":null}"#)
            #expect(try keys(of: cleared).contains("bio"))
            #expect(try cleared.decode(API.Profile.self).bio == nil)
            #expect(try cleared.decode(API.Profile.self).displayName == "New Name")
            let bad = try await client.request(
                .patch, "/v1/users/me", token: user.accessToken, rawBody: #"{"display_name":"","avatar_url":"ftp://x"}"#)
            let fields = try #require(try bad.expectProblem(422, code: "validation_failed").errors)
            #expect(fields.map(\.field) == ["display_name", "avatar_url"])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func publicProfileByID(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            let profile = try await client.get("/v1/users/\(user.id.uppercased())")
            #expect(profile.status == .ok)
            #expect(try profile.decode(API.Profile.self).id == user.id)
            #expect(try !keys(of: profile).contains("email"))
            try await client.get("/v1/users/\(UUID().uuidString)").expectProblem(404, code: "not_found")
            try await client.get("/v1/users/not-a-uuid").expectProblem(404, code: "not_found")
        }
    }
}
