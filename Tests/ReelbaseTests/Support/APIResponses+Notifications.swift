import Foundation
import Testing

@testable import Reelbase

extension API {
    /// `notification` in API.md.
    struct Notification: Decodable, Equatable {
        struct Video: Decodable, Equatable {
            var id: String
            var title: String
        }

        var id: String
        var type: String
        var createdAt: String
        var readAt: String?
        var actor: Profile?
        var video: Video?
        var jobId: String?
        var credits: Int?
        var text: String
    }

    struct NotificationPage: CursorPage {
        static let itemsKey = "notifications"
        var notifications: [Notification]
        var nextCursor: String?
        var hasMore: Bool
        var items: [Notification] { self.notifications }
    }

    /// A `balance` event.
    struct BalanceEvent: Decodable, Equatable {
        var balance: Int
    }
}

/// The members of `notification` in API.md.
let notificationKeys: Set<String> = ["id", "type", "created_at", "read_at", "actor", "video", "job_id", "credits", "text"]

extension TestClient {
    /// Every notification `user` sees, newest first (walked in small pages, each item with exactly API.md's members).
    func notifications(_ user: User, unread: Bool = false) async throws -> [API.Notification] {
        try await self.walk(
            unread ? "/v1/notifications?unread=true" : "/v1/notifications", as: API.NotificationPage.self, limit: 2,
            token: user.accessToken, itemKeys: notificationKeys)
    }

    func unreadCount(_ user: User) async throws -> Int {
        let response = try await self.get("/v1/notifications/unread-count", token: user.accessToken)
        guard response.status == .ok, try keys(of: response) == ["count"] else {
            throw TestSetupError("unread-count failed: \(response.status) \(response.text)")
        }
        return try response.decode([String: Int].self)["count"] ?? -1
    }

    /// Claims the next queued job as a worker and fails it.
    func failNextJob(error: String = "renderer crashed") async throws {
        let claimed = try await self.worker("claim")
        guard claimed.status == .ok else { throw TestSetupError("claim failed: \(claimed.status) \(claimed.text)") }
        let job = try claimed.decode(API.Job.self)
        let failed = try await self.worker("\(job.jobId)/fail", json: ["error": error])
        guard failed.status == .ok else { throw TestSetupError("fail failed: \(failed.status) \(failed.text)") }
    }
}
