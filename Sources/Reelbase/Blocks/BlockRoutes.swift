import Foundation
import Hummingbird

/// `/v1/blocks`: block and unblock (idempotent), the caller's list, and the batch check.
struct BlockRoutes {
    let blocks: any BlockStore
    let cursors: FeedCursor.Codec

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        BatchCheck<BlockedUsers> { [blocks] ids, me in try await blocks.blockedUsers(among: ids, blockerID: me) }.addRoute(to: group)
        group.get("", use: self.list)
        group.post(":user_id", use: self.block)
        group.delete(":user_id", use: self.unblock)
    }

    @Sendable func block(_ request: Request, context: AppRequestContext) async throws -> BlockStatusResponse {
        let me = try context.requireUser()
        let target = try context.parameters.uuid("user_id", resource: "User")
        try await self.blocks.block(userID: target, blockerID: me)
        return BlockStatusResponse(userID: target.lowercased, isBlocked: true)
    }

    @Sendable func unblock(_ request: Request, context: AppRequestContext) async throws -> BlockStatusResponse {
        let me = try context.requireUser()
        let target = try context.parameters.uuid("user_id", resource: "User")
        try await self.blocks.unblock(userID: target, blockerID: me)
        return BlockStatusResponse(userID: target.lowercased, isBlocked: false)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<UserProfile> {
        let me = try context.requireUser()
        // The list's name holds the caller, so a cursor cannot be carried to another user's list.
        return try await CursorPageResponse("users", request: request, list: "blocks/\(me.lowercased)", cursors: self.cursors) { page in
            try await self.blocks.list(blockerID: me, after: page.after, limit: page.limit)
        } item: { $0.user.profile }
    }
}

/// `POST /v1/blocks/check-batch`.
enum BlockedUsers: BatchCheckKind {
    static let spec = BatchCheckSpec(
        path: "/v1/blocks/check-batch", ids: "user_ids", answer: "blocked_users", tag: "Blocks",
        summary: "Whether the caller blocks each of 1-100 users, in one statement")
}

extension BlockStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .userNotFound: Problem.notFound("User")
        case .cannotBlockSelf: Problem(.unprocessableContent, code: "cannot_block_self", detail: "You cannot block yourself.")
        }
    }
}
