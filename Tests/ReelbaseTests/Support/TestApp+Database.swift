import Foundation
import HTTPTypes
import HummingbirdTesting

@testable import Reelbase

extension TestApp {
    /// Like ``run(_:settings:_:)``, with a second handle on the same database for what tests check or do
    /// beneath the API (ledger rows, direct `CreditLedger` movements).
    static func runWithDatabase(
        _ database: TestDatabase,
        settings: [String: String] = [:],
        _ body: @escaping @Sendable (TestClient, Reelbase.Database) async throws -> Void
    ) async throws {
        try await withFreshDatabase(database) { url in
            let configuration = try configuration(databaseURL: url, settings: settings)
            let app = try await buildApplication(configuration: configuration, logger: logger)
            try await app.test(.router) { client in
                try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: logger) { db in
                    try await body(TestClient(client: client), db)
                }
            }
        }
    }
}

extension TestClient {
    /// Buys a package with the mock gateway.
    func purchase(
        _ user: User, package: String = "basic_500", token: String = "tok_visa", key: String? = nil
    ) async throws -> TestResponse {
        var headers = HTTPFields()
        if let key { headers[.idempotencyKey] = key }
        return try await self.post(
            "/v1/credits/purchase", token: user.accessToken,
            json: ["package_id": package, "payment_method": "card", "payment_token": token], headers: headers)
    }

    /// An admin (the fixture lists admin@example.com in ADMIN_EMAILS).
    func registerAdmin() async throws -> User {
        try await self.register(username: "admin", email: "admin@example.com")
    }

    func balance(_ user: User) async throws -> [String: Int] {
        let response = try await self.get("/v1/credits/balance", token: user.accessToken)
        guard response.status == .ok, let body = try response.json as? [String: Int] else {
            throw TestSetupError("balance failed: \(response.status) \(response.text)")
        }
        return body
    }

    func audit(admin: User) async throws -> [String: Any] {
        let response = try await self.get("/v1/admin/credits/audit", token: admin.accessToken)
        guard response.status == .ok else { throw TestSetupError("audit failed: \(response.status) \(response.text)") }
        return try response.json
    }
}
