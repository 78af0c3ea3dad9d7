import Foundation
import Hummingbird

/// `/v1/likes`: like and unlike (idempotent), the per-video check, and the seed's batch check.
struct LikeRoutes {
    let likes: any LikeStore

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        BatchCheck<LikedVideos> { [likes] ids, me in try await likes.likedVideos(among: ids, userID: me) }.addRoute(to: group)
        group.post("videos/:video_id", use: self.like)
        group.delete("videos/:video_id", use: self.unlike)
        group.get("videos/:video_id/check", use: self.check)
    }

    @Sendable func like(_ request: Request, context: AppRequestContext) async throws -> LikeStatusResponse {
        let userID = try context.requireUser()
        let videoID = try context.parameters.uuid("video_id", resource: "Video")
        let count = try await self.likes.like(videoID: videoID, userID: userID)
        return LikeStatusResponse(videoID: videoID.lowercased, isLiked: true, likeCount: count)
    }

    @Sendable func unlike(_ request: Request, context: AppRequestContext) async throws -> LikeStatusResponse {
        let userID = try context.requireUser()
        let videoID = try context.parameters.uuid("video_id", resource: "Video")
        let count = try await self.likes.unlike(videoID: videoID, userID: userID)
        return LikeStatusResponse(videoID: videoID.lowercased, isLiked: false, likeCount: count)
    }

    @Sendable func check(_ request: Request, context: AppRequestContext) async throws -> LikeCheckResponse {
        let userID = try context.requireUser()
        let videoID = try context.parameters.uuid("video_id", resource: "Video")
        let liked = try await self.likes.isLiked(videoID: videoID, userID: userID)
        return LikeCheckResponse(videoID: videoID.lowercased, isLiked: liked)
    }
}

/// `POST /v1/likes/check-batch` (seed §1.1).
enum LikedVideos: BatchCheckKind {
    static let spec = BatchCheckSpec(
        path: "/v1/likes/check-batch", ids: "video_ids", answer: "liked_videos", tag: "Likes",
        summary: "Like state of 1-100 videos in one statement (seed §1.1)")
}

extension LikeStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .videoNotFound: Problem.notFound("Video")
        }
    }
}
