import Foundation
import Hummingbird

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

/// `POST /v1/likes/check-batch` (seed §1.1).
struct LikeBatchRequest: Decodable {
    var videoIDs: [String]

    enum CodingKeys: String, CodingKey { case videoIDs = "video_ids" }
}

/// The answer of a batch check, `{"liked_videos": {"<uuid>": bool, …}}` or `{"following_users": …}`, keyed by the
/// ids in lowercase: byte for byte what `JSONCoding.encoder` writes for it (keys sorted by their UTF-8 bytes).
///
/// Written by hand because Foundation's `JSONEncoder` spent about a sixth of a check-batch request's CPU time on
/// these 100 keys (profiled under load); the keys are UUIDs in lowercase, so nothing in them needs escaping.
struct BatchStatusResponse: ResponseGenerator, Sendable {
    let field: String
    let ids: [UUID]
    let matching: Set<UUID>

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let keys = self.ids.map { ($0.lowercased, self.matching.contains($0)) }
            .sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(self.field.utf8.count + 8 + keys.count * 45)
        buffer.writeString("{\"\(self.field)\":{")
        for (index, (key, value)) in keys.enumerated() {
            buffer.writeString(index == 0 ? "\"" : ",\"")
            buffer.writeString(key)
            buffer.writeString(value ? "\":true" : "\":false")
        }
        buffer.writeString("}}")
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: buffer))
    }
}

/// `POST /v1/follows/check-batch` (seed §1.2).
struct FollowBatchRequest: Decodable {
    var userIDs: [String]

    enum CodingKeys: String, CodingKey { case userIDs = "user_ids" }
}

/// The ids of a batch check, as the seed fixes them: 1 to 100 strings as sent (duplicates count), each a UUID
/// in any case. Every string that is not a UUID is named (`video_ids[3]`). Returns the distinct ids.
func batchIDs(_ strings: [String], field: String) throws -> [UUID] {
    var validator = Validator()
    validator.check((1...100).contains(strings.count), field, "Must hold 1 to 100 ids.")
    var ids: [UUID] = []
    var seen = Set<UUID>()
    for (index, string) in strings.enumerated() {
        guard let id = UUID(uuidString: string) else {
            validator.check(false, "\(field)[\(index)]", "Must be a UUID, not \(FieldError.quoting(string)).")
            continue
        }
        if seen.insert(id).inserted { ids.append(id) }
    }
    try validator.validate()
    return ids
}

/// The signed-in caller's relation to a user in a followers or following list, under the same keys in a row and
/// in the answer.
struct FollowViewerState: Sendable, Equatable, Codable {
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
struct FollowListEntry: Sendable, Decodable {
    var user: UserRecord
    /// The follow's key, for the cursor after it.
    var cursor: FeedCursor
    /// `nil` for anonymous callers.
    var viewer: FollowViewerState?

    private enum CodingKeys: String, CodingKey {
        case sortKey = "sort_key"
    }

    /// Reads the listed user's columns, the follow's sort key and, when the row has it, the viewer's state.
    init(from decoder: any Decoder) throws {
        self.user = try UserRecord(from: decoder)
        self.cursor = FeedCursor(
            instant: try decoder.container(keyedBy: CodingKeys.self).decode(Double.self, forKey: .sortKey), id: self.user.id)
        let hasViewer = try decoder.container(keyedBy: FollowViewerState.CodingKeys.self).contains(.isFollowing)
        self.viewer = hasViewer ? try FollowViewerState(from: decoder) : nil
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
