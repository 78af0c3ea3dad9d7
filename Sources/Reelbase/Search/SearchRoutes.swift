import Foundation
import Hummingbird

/// `/v1/search/videos` and `/v1/search/users`: cursor lists like the feeds, whose cursors belong to their query.
struct SearchRoutes {
    let search: any SearchStore
    let cursors: FeedCursor.Codec

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("videos", use: self.videos)
        group.get("users", use: self.users)
    }

    @Sendable func videos(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<VideoResponse> {
        let query = try SearchQuery(request)
        // Queries with the same words find the same videos in the same order, so they share cursors; any other is a 422.
        let list = "search/videos?q=" + query.words.joined(separator: " ")
        return try await CursorPageResponse("videos", request: request, list: list, cursors: self.cursors) { page in
            try await self.search.videos(matching: query, after: page.after, limit: page.limit, viewer: context.userID)
        } item: { $0.response }
    }

    @Sendable func users(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<FollowListUser> {
        let query = try SearchQuery(request)
        // The folded text, not only its words: it is also compared with usernames as it is (`a_b` is not `a b`).
        let list = "search/users?q=" + query.folded
        return try await CursorPageResponse("users", request: request, list: list, cursors: self.cursors) { page in
            try await self.search.users(matching: query, after: page.after, limit: page.limit, viewer: context.userID)
        } item: { FollowListUser(profile: $0.user.profile, viewer: $0.viewer) }
    }
}
