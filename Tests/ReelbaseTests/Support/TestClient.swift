import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Reelbase

/// A response, with its body decoded as one of ``API``'s types.
struct TestResponse: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: Data

    var text: String { String(decoding: self.body, as: UTF8.self) }

    /// The body as `type`; the error names the body when it is not one.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try API.decoder.decode(T.self, from: self.body)
        } catch {
            throw TestSetupError("\(self.status) body is no \(T.self): \(self.text)\n\(error)")
        }
    }

    /// Asserts an RFC 9457 problem with this status and code, and returns it.
    @discardableResult
    func expectProblem(_ status: Int, code: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> API.Problem {
        #expect(self.status.code == status, "body: \(self.text)", sourceLocation: sourceLocation)
        #expect(self.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        // Decoding requires a string `title` and every other member's type.
        let problem = try self.decode(API.Problem.self)
        #expect(problem.code == code, "body: \(self.text)", sourceLocation: sourceLocation)
        #expect(problem.status == status, sourceLocation: sourceLocation)
        #expect(problem.type == "about:blank", sourceLocation: sourceLocation)
        #expect(!problem.detail.isEmpty, sourceLocation: sourceLocation)
        return problem
    }
}

/// HummingbirdTesting's client with JSON and bearer-token conveniences.
struct TestClient: Sendable {
    /// Sends one request: in memory to the router, or over a socket to a ``LiveServer``.
    private let send: @Sendable (_ uri: String, _ method: HTTPRequest.Method, _ headers: HTTPFields, _ body: ByteBuffer?) async throws -> TestResponse
    /// The app's database, for what an operator does beside the server (``setRole(email:role:)``).
    let databaseURL: String?

    init(client: any TestClientProtocol, databaseURL: String? = nil) {
        self.databaseURL = databaseURL
        self.send = { uri, method, headers, body in
            try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
                TestResponse(status: response.status, headers: response.headers, body: Data(buffer: response.body))
            }
        }
    }

    /// Over HTTP, with a client connected to a server that listens.
    init(live client: HummingbirdTesting.TestClient, databaseURL: String? = nil) {
        self.databaseURL = databaseURL
        self.send = { uri, method, headers, body in
            var headers = headers
            headers[.connection] = "keep-alive"
            let response = try await client.execute(.init(uri, method: method, authority: "localhost", headers: headers, body: body))
            return TestResponse(status: response.status, headers: response.headers, body: Data(buffer: response.body ?? ByteBuffer()))
        }
    }

    func request(
        _ method: HTTPRequest.Method,
        _ uri: String,
        token: String? = nil,
        json: (any Encodable & Sendable)? = nil,
        rawBody: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(data: try JSONEncoder().encode(json))
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        } else if let rawBody {
            body = ByteBuffer(string: rawBody)
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        }
        return try await self.send(uri, method, headers, body)
    }

    func get(_ uri: String, token: String? = nil) async throws -> TestResponse {
        try await self.request(.get, uri, token: token)
    }

    func post(_ uri: String, token: String? = nil, json: (any Encodable & Sendable)? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await self.request(.post, uri, token: token, json: json, headers: headers)
    }

    func delete(_ uri: String, token: String? = nil) async throws -> TestResponse {
        try await self.request(.delete, uri, token: token)
    }

    /// A signed-in user made through the API.
    struct User: Sendable {
        var id: String
        var email: String
        var username: String
        var password: String
        var accessToken: String
        var refreshToken: String
    }

    /// Registers a new user with unique email and username.
    func register(username: String? = nil, email: String? = nil, referralCode: String? = nil) async throws -> User {
        let username = username ?? "u\(UUID().uuidString.prefix(8).lowercased())"
        let email = email ?? "\(username)@example.com"
        let password = "password-\(username)"
        var fields = ["email": email, "password": password, "username": username]
        if let referralCode { fields["referral_code"] = referralCode }
        let response = try await self.post("/v1/auth/register", json: fields)
        guard response.status == .created else { throw TestSetupError("register failed: \(response.status) \(response.text)") }
        let body = try response.decode(API.Auth.self)
        return User(
            id: body.user.id,
            email: email,
            username: username,
            password: password,
            accessToken: body.accessToken,
            refreshToken: body.refreshToken
        )
    }
}
