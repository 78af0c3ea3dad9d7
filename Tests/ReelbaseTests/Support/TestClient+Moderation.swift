import Foundation
import Testing

@testable import Reelbase

/// Reports and moderation through the API, for the suites of both.
extension TestClient {
    /// A new user made moderator by the operator's command line.
    func registerModerator() async throws -> User {
        let user = try await self.register()
        try await self.setRole(email: user.email, role: .moderator)
        return user
    }

    struct ReportBody: Encodable, Sendable {
        var target_type: String
        var target_id: String
        var category: String
        var comment: String?
    }

    func report(_ target: String, _ id: String, by user: User, category: String = "spam", comment: String? = nil) async throws -> TestResponse {
        try await self.post(
            "/v1/reports", token: user.accessToken, json: ReportBody(target_type: target, target_id: id, category: category, comment: comment))
    }

    /// Reports and expects a new report (`201`).
    func newReport(_ target: String, _ id: String, by user: User, category: String = "spam") async throws -> API.Report {
        let response = try await self.report(target, id, by: user, category: category)
        guard response.status == .created else { throw TestSetupError("report failed: \(response.status) \(response.text)") }
        return try response.decode(API.Report.self)
    }

    struct ResolveBody: Encodable, Sendable {
        var action: String
        var note: String?
    }

    func resolve(_ reportID: String, _ action: String, note: String? = nil, by user: User) async throws -> TestResponse {
        try await self.post("/v1/admin/reports/\(reportID)/resolve", token: user.accessToken, json: ResolveBody(action: action, note: note))
    }

    func suspend(_ userID: String, reason: String = "spamming", by user: User) async throws -> TestResponse {
        try await self.post("/v1/admin/users/\(userID)/suspend", token: user.accessToken, json: ["reason": reason])
    }

    func unsuspend(_ userID: String, by user: User) async throws -> TestResponse {
        try await self.post("/v1/admin/users/\(userID)/unsuspend", token: user.accessToken)
    }

    /// The whole moderation log, newest first, as `user` reads it.
    func moderationLog(by user: User) async throws -> [API.LogEntry] {
        try await self.walk(
            "/v1/admin/moderation-log", as: API.LogPage.self, limit: 3, token: user.accessToken,
            itemKeys: ["id", "actor", "action", "target_type", "target_id", "note", "created_at"])
    }
}
