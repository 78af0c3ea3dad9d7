import Foundation
import Hummingbird
import SQLKit

/// `POST /v1/videos/`. Every field is read as sent so that one `422` can name all the bad ones.
struct NewVideoRequest: Decodable {
    var title: String?
    var description: String?
    var videoURL: String?
    var thumbnailURL: String?
    var durationSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case title, description
        case videoURL = "video_url"
        case thumbnailURL = "thumbnail_url"
        case durationSeconds = "duration_seconds"
    }

    /// The video to store, or a `422` listing every invalid field.
    func validated(urls: URLRule) throws -> NewVideo {
        var validator = Validator()
        let title = self.title ?? ""
        validator.check(
            (1...200).contains(title.lengthInCodePoints) && !title.allSatisfy(\.isWhitespace), "title",
            "Must be 1 to 200 characters, not all blank.")
        if let description {
            validator.checkLength(description, 0...5000, "description", "Must be at most 5000 characters.")
        }
        validator.check(self.videoURL != nil, "video_url", "Is required.")
        if let videoURL { validator.checkURL(videoURL, "video_url", rule: urls) }
        if let thumbnailURL { validator.checkURL(thumbnailURL, "thumbnail_url", rule: urls) }
        let duration = self.durationSeconds.flatMap { (1...3600).contains($0) ? $0 : nil }
        validator.check(duration != nil, "duration_seconds", "Must be an integer from 1 to 3600.")
        try validator.validate()
        return NewVideo(
            title: title,
            description: self.description,
            videoURL: self.videoURL ?? "",
            thumbnailURL: self.thumbnailURL,
            durationSeconds: duration ?? 0
        )
    }
}

/// A checked video about to be stored.
struct NewVideo: Sendable {
    var id = UUID()
    var title: String
    var description: String?
    var videoURL: String
    var thumbnailURL: String?
    var durationSeconds: Int
}

/// What the signed-in caller has done to a video and its owner, under the same keys in a row and in the answer.
struct VideoViewerState: Sendable, Equatable, Encodable {
    var isLiked: Bool
    var isFollowing: Bool
    var isBookmarked: Bool

    enum CodingKeys: String, CodingKey {
        case isLiked = "is_liked"
        case isFollowing = "is_following"
        case isBookmarked = "is_bookmarked"
    }

    /// The state in `row`, or `nil` when the row has none (an anonymous caller's).
    static func readIfPresent(from row: any SQLRow) throws -> VideoViewerState? {
        guard row.contains(column: CodingKeys.isLiked.rawValue) else { return nil }
        return VideoViewerState(
            isLiked: try row.decode(column: CodingKeys.isLiked.rawValue, as: Bool.self),
            isFollowing: try row.decode(column: CodingKeys.isFollowing.rawValue, as: Bool.self),
            isBookmarked: try row.decode(column: CodingKeys.isBookmarked.rawValue, as: Bool.self))
    }
}

/// A video's own columns, as ``VideoSelect`` selects them: aliased apart from its owner's `users` columns.
struct VideoRow: SQLRowReadable {
    var id: UUID
    var title: String
    var description: String?
    var videoURL: String
    var thumbnailURL: String?
    var durationSeconds: Int
    var likeCount: Int
    var createdAt: Date
    /// The feed's key of this video, as ``SQLDialectKind/exactInstant(_:)`` reads it.
    var sortKey: Double

    enum Column: String {
        case id = "video_id"
        case title, description
        case videoURL = "video_url"
        case thumbnailURL = "thumbnail_url"
        case durationSeconds = "duration_seconds"
        case likeCount = "like_count"
        case createdAt = "video_created_at"
        case sortKey = "sort_key"
    }

    init(row: any SQLRow) throws {
        self.id = try row.decode(column: Column.id.rawValue, as: UUID.self)
        self.title = try row.decode(column: Column.title.rawValue, as: String.self)
        self.description = try row.decodeIfPresent(column: Column.description.rawValue, as: String.self)
        self.videoURL = try row.decode(column: Column.videoURL.rawValue, as: String.self)
        self.thumbnailURL = try row.decodeIfPresent(column: Column.thumbnailURL.rawValue, as: String.self)
        self.durationSeconds = try row.decode(column: Column.durationSeconds.rawValue, as: Int.self)
        self.likeCount = try row.decode(column: Column.likeCount.rawValue, as: Int.self)
        self.createdAt = try row.decode(column: Column.createdAt.rawValue, as: Date.self)
        self.sortKey = try row.decode(column: Column.sortKey.rawValue, as: Double.self)
    }
}

/// A live video with its owner, as read by ``VideoStore``.
struct VideoRecord: Sendable {
    var video: VideoRow
    var owner: UserRecord
    /// `nil` for anonymous callers.
    var viewer: VideoViewerState?

    var id: UUID { self.video.id }
    /// The feed's key of this video, for the cursor after it.
    var cursor: FeedCursor { FeedCursor(instant: self.video.sortKey, id: self.video.id) }

    var response: VideoResponse {
        VideoResponse(
            id: self.video.id.lowercased,
            title: self.video.title,
            description: self.video.description,
            videoURL: self.video.videoURL,
            thumbnailURL: self.video.thumbnailURL,
            durationSeconds: self.video.durationSeconds,
            likeCount: self.video.likeCount,
            createdAt: self.video.createdAt,
            user: self.owner.profile,
            viewer: self.viewer
        )
    }
}

extension VideoRecord: SQLRowReadable {
    /// Reads one row of a video joined with its owner, and with the viewer's state when the row has it.
    init(row: any SQLRow) throws {
        self.video = try VideoRow(row: row)
        self.owner = try UserRecord(row: row)
        self.viewer = try VideoViewerState.readIfPresent(from: row)
    }
}

/// `video` in API.md. Absent optional values are sent as `null`; `is_liked`, `is_following` and `is_bookmarked` are
/// sent only to a signed-in caller.
struct VideoResponse: ResponseEncodable, Sendable {
    var id: String
    var title: String
    var description: String?
    var videoURL: String
    var thumbnailURL: String?
    var durationSeconds: Int
    var likeCount: Int
    var createdAt: Date
    var user: UserProfile
    var viewer: VideoViewerState?

    enum CodingKeys: String, CodingKey {
        case id, title, description, user
        case videoURL = "video_url"
        case thumbnailURL = "thumbnail_url"
        case durationSeconds = "duration_seconds"
        case likeCount = "like_count"
        case createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.title, forKey: .title)
        try container.encode(self.description, forKey: .description)
        try container.encode(self.videoURL, forKey: .videoURL)
        try container.encode(self.thumbnailURL, forKey: .thumbnailURL)
        try container.encode(self.durationSeconds, forKey: .durationSeconds)
        try container.encode(self.likeCount, forKey: .likeCount)
        try container.encode(self.createdAt, forKey: .createdAt)
        try container.encode(self.user, forKey: .user)
        try self.viewer?.encode(to: encoder)
    }
}
