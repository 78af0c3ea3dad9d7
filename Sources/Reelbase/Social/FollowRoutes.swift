import Foundation
import Hummingbird

/// `/v1/follows` (follow, unfollow, checks) and `/v1/users/{user_id}/followers|following` (the lists).
struct FollowRoutes {
    let follows: any FollowStore
    let users: any UserStore
    let cursors: FeedCursor.Codec

    func addRoutes(follows group: RouterGroup<AppRequestContext>, users usersGroup: RouterGroup<AppRequestContext>) {
        BatchCheck<FollowingUsers> { [follows] ids, me in try await follows.followedUsers(among: ids, followerID: me) }.addRoute(to: group)
        group.post(":user_id", use: self.follow)
        group.delete(":user_id", use: self.unfollow)
        group.get(":user_id/check", use: self.check)
        usersGroup.get(":user_id/followers") { request, context in
            try await self.list(.followers, request: request, context: context)
        }
        usersGroup.get(":user_id/following") { request, context in
            try await self.list(.following, request: request, context: context)
        }
    }

    @Sendable func follow(_ request: Request, context: AppRequestContext) async throws -> FollowStatusResponse {
        let (target, me) = try self.pair(context)
        let count = try await self.follows.follow(userID: target, followerID: me)
        return FollowStatusResponse(userID: target.lowercased, isFollowing: true, followerCount: count)
    }

    @Sendable func unfollow(_ request: Request, context: AppRequestContext) async throws -> FollowStatusResponse {
        let (target, me) = try self.pair(context)
        let count = try await self.follows.unfollow(userID: target, followerID: me)
        return FollowStatusResponse(userID: target.lowercased, isFollowing: false, followerCount: count)
    }

    @Sendable func check(_ request: Request, context: AppRequestContext) async throws -> FollowCheckResponse {
        let (target, me) = try self.pair(context)
        let following = try await self.follows.isFollowing(userID: target, followerID: me)
        return FollowCheckResponse(userID: target.lowercased, isFollowing: following)
    }

    private func list(_ direction: FollowDirection, request: Request, context: AppRequestContext) async throws -> CursorPageResponse<FollowListUser> {
        let userID = try context.parameters.uuid("user_id", resource: "User")
        guard try await self.users.find(id: userID, visibleTo: context.userID) != nil else { throw Problem.notFound("User") }
        let list = "users/\(userID.lowercased)/\(direction.rawValue)"
        return try await CursorPageResponse("users", request: request, list: list, cursors: self.cursors) { page in
            try await self.follows.list(direction, of: userID, after: page.after, limit: page.limit, viewer: context.userID)
        } item: { FollowListUser(profile: $0.user.profile, viewer: $0.viewer) }
    }

    /// The user the path names and the signed-in caller.
    private func pair(_ context: AppRequestContext) throws -> (target: UUID, me: UUID) {
        let me = try context.requireUser()
        let target = try context.parameters.uuid("user_id", resource: "User")
        return (target, me)
    }
}

/// `POST /v1/follows/check-batch` (seed §1.2).
enum FollowingUsers: BatchCheckKind {
    static let spec = BatchCheckSpec(
        path: "/v1/follows/check-batch", ids: "user_ids", answer: "following_users", tag: "Follows",
        summary: "Follow state of 1-100 users in one statement (seed §1.2)")
}

extension FollowStoreError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .userNotFound: Problem.notFound("User")
        case .cannotFollowSelf: Problem(.unprocessableContent, code: "cannot_follow_self", detail: "You cannot follow yourself.")
        }
    }
}
