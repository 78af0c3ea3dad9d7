/// OpenAPI part: likes, follows, and the seed's batch checks.
enum SocialAPI: APIPart {
    static var paths: OAS.Object {
        let video = [OAS.pathParameter("video_id")]
        let user = [OAS.pathParameter("user_id")]
        let likeState = OAS.object(["video_id": OAS.uuid, "is_liked": OAS.boolean, "like_count": OAS.integer])
        let followState = OAS.object(["user_id": OAS.uuid, "is_following": OAS.boolean, "follower_count": OAS.integer])
        let paths: OAS.Object = [
            "/v1/likes/videos/{video_id}": [
                "post": OAS.operation("Like (idempotent)", tag: "Likes", auth: .user, parameters: video, responses: [200: ("Liked", likeState)]),
                "delete": OAS.operation("Unlike (idempotent)", tag: "Likes", auth: .user, parameters: video, responses: [200: ("Not liked", likeState)]),
            ],
            "/v1/likes/videos/{video_id}/check": [
                "get": OAS.operation(
                    "Whether the caller likes a video", tag: "Likes", auth: .user, parameters: video,
                    responses: [200: ("State", OAS.object(["video_id": OAS.uuid, "is_liked": OAS.boolean]))])
            ],
            "/v1/follows/{user_id}": [
                "post": OAS.operation("Follow (idempotent)", tag: "Follows", auth: .user, parameters: user, responses: [200: ("Following", followState)]),
                "delete": OAS.operation("Unfollow (idempotent)", tag: "Follows", auth: .user, parameters: user, responses: [200: ("Not following", followState)]),
            ],
            "/v1/follows/{user_id}/check": [
                "get": OAS.operation(
                    "Whether the caller follows a user", tag: "Follows", auth: .user, parameters: user,
                    responses: [200: ("State", OAS.object(["user_id": OAS.uuid, "is_following": OAS.boolean]))])
            ],
            "/v1/users/{user_id}/followers": [
                "get": OAS.operation(
                    "Who follows a user", tag: "Follows", auth: .optionalUser, parameters: user + OAS.pageParameters,
                    responses: [200: ("A page of users", OAS.ref("UserPage"))])
            ],
            "/v1/users/{user_id}/following": [
                "get": OAS.operation(
                    "Whom a user follows", tag: "Follows", auth: .optionalUser, parameters: user + OAS.pageParameters,
                    responses: [200: ("A page of users", OAS.ref("UserPage"))])
            ],
        ]
        return paths.merging(BatchCheck<LikedVideos>.paths) { $1 }.merging(BatchCheck<FollowingUsers>.paths) { $1 }
    }

    static var schemas: OAS.Object {
        [
            "FollowListUser": OAS.object(
                UsersAPI.userProperties.merging(["is_following": OAS.boolean, "follows_you": OAS.boolean]) { $1 },
                required: UsersAPI.userProperties.keys.sorted()),
            "UserPage": OAS.object([
                "users": OAS.array(OAS.ref("FollowListUser")), "next_cursor": OAS.nullable(OAS.string), "has_more": OAS.boolean,
            ]),
        ]
    }
}
