import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Reelbase

@Suite("HTTP conventions: every error is problem+json")
struct ProblemDetailsTests {
    @Test(arguments: TestDatabase.allCases)
    func unknownRouteIs404(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            try await client.get("/v1/no-such-thing").expectProblem(404, code: "not_found")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func wrongMethodIs405WithAllow(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let response = try await client.delete("/v1/users/me")
            try response.expectProblem(405, code: "method_not_allowed")
            #expect(response.headers[.allow] == "GET, PATCH")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func bodyThatIsNotJSONIs400(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let response = try await client.request(.post, "/v1/auth/login", rawBody: "{not json")
            try response.expectProblem(400, code: "invalid_json")
            try await client.request(.post, "/v1/auth/login", rawBody: "").expectProblem(400, code: "invalid_json")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func jsonOfTheWrongShapeIs422NamingTheField(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let missing = try await client.request(.post, "/v1/auth/login", rawBody: #"{"email":"a@b.c"}"#)
            let problem = try missing.expectProblem(422, code: "validation_failed")
            let errors = try #require(problem.errors)
            #expect(errors == [API.FieldError(field: "password", message: "Is required.")])

            let wrongType = try await client.request(.post, "/v1/auth/login", rawBody: #"{"email":5,"password":"x"}"#)
            let fields = try #require(try wrongType.expectProblem(422, code: "validation_failed").errors)
            #expect(fields.map(\.field) == ["email"])

            let array = try await client.request(.post, "/v1/auth/login", rawBody: "[]")
            try array.expectProblem(422, code: "validation_failed")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func wrongContentTypeIs415(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let response = try await client.request(
                .post, "/v1/auth/login", rawBody: "email=a", headers: [.contentType: "application/x-www-form-urlencoded"])
            try response.expectProblem(415, code: "unsupported_media_type")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func twoMebibyteBodyIs413(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let big = String(repeating: "a", count: 2 << 20)
            try await client.request(.post, "/v1/auth/register", rawBody: big).expectProblem(413, code: "payload_too_large")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func requestIDIsEchoedOrGenerated(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let echoed = try await client.request(.get, "/healthz", headers: [.xRequestID: "trace-42"])
            #expect(echoed.headers[.xRequestID] == "trace-42")
            let generated = try await client.get("/v1/missing")
            let id = try #require(generated.headers[.xRequestID])
            #expect(UUID(uuidString: id) != nil)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func trailingSlashFormsBothWork(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            #expect(try await client.get("/v1/users/me", token: user.accessToken).status == .ok)
            #expect(try await client.get("/v1/users/me/", token: user.accessToken).status == .ok)
        }
    }

    /// An error nobody planned for is logged and answered with a 500 that reveals nothing.
    @Test func unexpectedErrorIsAGeneric500() async throws {
        struct Secret: Error { let dsn = "postgres://app:hunter2@db/reelbase" }
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: ProblemMiddleware(routes: RouteTable()))
        router.get("boom") { _, _ -> String in throw Secret() }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/boom", method: .get) { response in
                #expect(response.status == .internalServerError)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = String(buffer: response.body)
                #expect(body.contains(#""code":"internal_error""#))
                #expect(!body.contains("hunter2"))
                #expect(!body.contains("Secret"))
            }
        }
    }
}

@Suite("HTTP conventions: 405 follows the router's precedence")
struct AllowHeaderTests {
    @Test(arguments: TestDatabase.allCases)
    func fixedPathsAdvertiseOnlyTheirOwnMethods(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let response = try await client.delete("/v1/follows/check-batch")
            try response.expectProblem(405, code: "method_not_allowed")
            #expect(response.headers[.allow] == "POST")
            let user = try await client.request(.put, "/v1/follows/\(UUID().uuidString)")
            #expect(user.headers[.allow] == "DELETE, POST")
        }
    }
}
