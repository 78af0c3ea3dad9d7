import Hummingbird

/// `POST`/`DELETE /v1/bookmarks/videos/{video_id}`.
struct BookmarkStatusResponse: ResponseEncodable, Sendable {
    var videoID: String
    var isBookmarked: Bool

    enum CodingKeys: String, CodingKey {
        case videoID = "video_id"
        case isBookmarked = "is_bookmarked"
    }
}
