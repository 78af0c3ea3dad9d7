import Foundation
import Testing

@testable import Reelbase

extension TestClient {
    /// Publishes a video through the API and returns its id.
    @discardableResult
    func createVideo(_ user: User, title: String = "A clip") async throws -> String {
        let response = try await self.post(
            "/v1/videos/", token: user.accessToken,
            json: VideoBody(title: title, video_url: "https://cdn.example.com/\(UUID().uuidString).mp4", duration_seconds: 15))
        guard response.status == .created, let id = try response.json["id"] as? String else {
            throw TestSetupError("create video failed: \(response.status) \(response.text)")
        }
        return id
    }

    func delete(_ uri: String, token: String? = nil) async throws -> TestResponse {
        try await self.request(.delete, uri, token: token)
    }

    /// Walks a cursor list to its end with `limit` and returns every page's items.
    func walk(_ path: String, key: String, limit: Int, token: String? = nil) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var cursor = ""
        for _ in 0..<1000 {
            let response = try await self.get("\(path)?limit=\(limit)&cursor=\(cursor)", token: token)
            guard response.status == .ok else { throw TestSetupError("\(path): \(response.status) \(response.text)") }
            let body = try response.json
            items += body[key] as? [[String: Any]] ?? []
            guard body["has_more"] as? Bool == true, let next = body["next_cursor"] as? String else {
                #expect(body["next_cursor"] is NSNull)
                return items
            }
            cursor = next
        }
        throw TestSetupError("\(path) never ended")
    }
}

struct VideoBody: Encodable, Sendable {
    var title: String
    var video_url: String
    var duration_seconds: Int
}

/// The keys of `video` in API.md, and the two a signed-in caller also gets.
let videoKeys: Set<String> = [
    "id", "title", "description", "video_url", "thumbnail_url", "duration_seconds", "like_count", "created_at", "user",
]
let viewerKeys: Set<String> = ["is_liked", "is_following"]
let userKeys: Set<String> = [
    "id", "username", "display_name", "bio", "avatar_url", "follower_count", "following_count", "video_count", "created_at",
]
