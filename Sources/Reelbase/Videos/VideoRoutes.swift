import Foundation
import Hummingbird

/// `/v1/videos` and `/v1/users/{user_id}/videos`: publishing, reading, deleting, and the newest-first feeds.
struct VideoRoutes {
    let videos: any VideoStore
    let users: any UserStore
    let cursors: FeedCursor.Codec
    let urls: URLRule

    func addRoutes(videos group: RouterGroup<AppRequestContext>, users usersGroup: RouterGroup<AppRequestContext>) {
        group.post("", use: self.create)
        group.get("", use: self.feed)
        group.get(":video_id", use: self.show)
        group.delete(":video_id", use: self.delete)
        usersGroup.get(":user_id/videos", use: self.userVideos)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<VideoResponse> {
        let userID = try context.requireUser()
        let video = try await request.decodeJSON(as: NewVideoRequest.self, context: context).validated(urls: self.urls)
        let record = try await self.videos.create(video, ownerID: userID)
        context.logger.info("video created", metadata: ["video_id": .string(record.id.lowercased)])
        return EditedResponse(status: .created, response: record.response)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> VideoResponse {
        let videoID = try context.parameters.uuid("video_id", resource: "Video")
        guard let record = try await self.videos.find(id: videoID, viewer: context.userID) else { throw Problem.notFound("Video") }
        return record.response
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let userID = try context.requireUser()
        let videoID = try context.parameters.uuid("video_id", resource: "Video")
        try await self.videos.delete(id: videoID, by: userID)
        context.logger.info("video deleted", metadata: ["video_id": .string(videoID.lowercased)])
        return .noContent
    }

    @Sendable func feed(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<VideoResponse> {
        try await self.answer(ownerID: nil, request: request, list: "videos", context: context)
    }

    @Sendable func userVideos(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<VideoResponse> {
        let userID = try context.parameters.uuid("user_id", resource: "User")
        guard try await self.users.find(id: userID, visibleTo: context.userID) != nil else { throw Problem.notFound("User") }
        return try await self.answer(ownerID: userID, request: request, list: "users/\(userID.lowercased)/videos", context: context)
    }

    private func answer(ownerID: UUID?, request: Request, list: String, context: AppRequestContext) async throws -> CursorPageResponse<VideoResponse> {
        try await CursorPageResponse("videos", request: request, list: list, cursors: self.cursors) { page in
            try await self.videos.page(ownerID: ownerID, after: page.after, limit: page.limit, viewer: context.userID)
        } item: { $0.response }
    }
}

extension VideoStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .ownerNotFound: Problem.unauthorized("The account no longer exists.")
        case .notFound: Problem.notFound("Video")
        case .notOwner: Problem.forbidden("Only the owner can delete this video.")
        }
    }
}
