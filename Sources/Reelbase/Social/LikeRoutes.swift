import Foundation
import Hummingbird

/// `/v1/likes`: like and unlike (idempotent), the per-video check, and the seed's batch check.
struct LikeRoutes {
    let likes: any LikeStore

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("check-batch", use: self.checkBatch)
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

    @Sendable func checkBatch(_ request: Request, context: AppRequestContext) async throws -> BatchStatusResponse {
        let userID = try context.requireUser()
        let body = try await request.decodeJSON(as: LikeBatchRequest.self, context: context)
        let ids = try batchIDs(body.videoIDs, field: "video_ids")
        let liked = try await self.likes.likedVideos(among: ids, userID: userID)
        return BatchStatusResponse(field: "liked_videos", ids: ids, matching: liked)
    }
}

extension LikeStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .videoNotFound: Problem.notFound("Video")
        }
    }
}
