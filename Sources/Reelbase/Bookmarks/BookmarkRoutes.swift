import Foundation
import Hummingbird

/// `/v1/bookmarks`: bookmark and unbookmark (idempotent), the caller's list, and the batch check.
struct BookmarkRoutes {
    let bookmarks: any BookmarkStore
    let cursors: FeedCursor.Codec

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        BatchCheck<BookmarkedVideos> { [bookmarks] ids, me in try await bookmarks.bookmarkedVideos(among: ids, userID: me) }
            .addRoute(to: group)
        group.get("", use: self.list)
        group.post("videos/:video_id", use: self.bookmark)
        group.delete("videos/:video_id", use: self.unbookmark)
    }

    @Sendable func bookmark(_ request: Request, context: AppRequestContext) async throws -> BookmarkStatusResponse {
        let me = try context.requireUser()
        let videoID = try context.parameters.uuid("video_id", resource: "Video")
        try await self.bookmarks.bookmark(videoID: videoID, userID: me)
        return BookmarkStatusResponse(videoID: videoID.lowercased, isBookmarked: true)
    }

    @Sendable func unbookmark(_ request: Request, context: AppRequestContext) async throws -> BookmarkStatusResponse {
        let me = try context.requireUser()
        let videoID = try context.parameters.uuid("video_id", resource: "Video")
        try await self.bookmarks.unbookmark(videoID: videoID, userID: me)
        return BookmarkStatusResponse(videoID: videoID.lowercased, isBookmarked: false)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<VideoResponse> {
        let me = try context.requireUser()
        // The list's name holds the caller, so a cursor cannot be carried to another user's list.
        return try await CursorPageResponse("videos", request: request, list: "bookmarks/\(me.lowercased)", cursors: self.cursors) { page in
            try await self.bookmarks.list(userID: me, after: page.after, limit: page.limit)
        } item: { $0.response }
    }
}

/// `POST /v1/bookmarks/check-batch`.
enum BookmarkedVideos: BatchCheckKind {
    static let spec = BatchCheckSpec(
        path: "/v1/bookmarks/check-batch", ids: "video_ids", answer: "bookmarked_videos", tag: "Bookmarks",
        summary: "Whether the caller bookmarked each of 1-100 videos, in one statement")
}

extension BookmarkStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .videoNotFound: Problem.notFound("Video")
        }
    }
}
