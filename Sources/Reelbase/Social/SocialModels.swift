import Foundation
import Hummingbird
import SQLKit

/// `POST`/`DELETE /v1/likes/videos/{video_id}`.
struct LikeStatusResponse: ResponseEncodable, Sendable {
    var videoID: String
    var isLiked: Bool
    var likeCount: Int

    enum CodingKeys: String, CodingKey {
        case videoID = "video_id"
        case isLiked = "is_liked"
        case likeCount = "like_count"
    }
}

/// `GET /v1/likes/videos/{video_id}/check`.
struct LikeCheckResponse: ResponseEncodable, Sendable {
    var videoID: String
    var isLiked: Bool

    enum CodingKeys: String, CodingKey {
        case videoID = "video_id"
        case isLiked = "is_liked"
    }
}

/// `POST`/`DELETE /v1/follows/{user_id}`.
struct FollowStatusResponse: ResponseEncodable, Sendable {
    var userID: String
    var isFollowing: Bool
    var followerCount: Int

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case isFollowing = "is_following"
        case followerCount = "follower_count"
    }
}

/// `GET /v1/follows/{user_id}/check`.
struct FollowCheckResponse: ResponseEncodable, Sendable {
    var userID: String
    var isFollowing: Bool

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case isFollowing = "is_following"
    }
}

/// The signed-in caller's relation to a user in a followers or following list, under the same keys in a row and
/// in the answer.
struct FollowViewerState: Sendable, Equatable, Encodable {
    /// The caller follows this user.
    var isFollowing: Bool
    /// This user follows the caller.
    var followsYou: Bool

    enum CodingKeys: String, CodingKey {
        case isFollowing = "is_following"
        case followsYou = "follows_you"
    }
}

/// One row of a followers or following list.
struct FollowListEntry: SQLRowReadable {
    var user: UserRecord
    /// The follow's key, for the cursor after it.
    var cursor: FeedCursor
    /// `nil` for anonymous callers.
    var viewer: FollowViewerState?

    /// Reads the listed user's columns, the follow's sort key and, when the row has it, the viewer's state.
    init(row: any SQLRow) throws {
        let listed = try ListedUserRecord(row: row)
        self.user = listed.user
        self.cursor = listed.cursor
        self.viewer = try FollowViewerState.readIfPresent(from: row)
    }
}

/// A `user` of a follow list: the public profile, plus `is_following` and `follows_you` for a signed-in caller.
struct FollowListUser: Encodable, Sendable {
    var profile: UserProfile
    var viewer: FollowViewerState?

    func encode(to encoder: any Encoder) throws {
        try self.profile.encode(to: encoder)
        try self.viewer?.encode(to: encoder)
    }
}
