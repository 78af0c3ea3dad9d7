import Foundation
import Hummingbird
import SQLKit

/// `POST /v1/videos/`. Every field is read as sent so that one `422` can name all the bad ones.
struct NewVideoRequest: Decodable {
    var title: String?
    var description: String?
    var videoURL: String?
    var thumbnailURL: String?
    /// Read as a number: Foundation's decoder reports `12.5` or `1e30` for an `Int` as invalid JSON (`400`)
    /// without naming the field, and the contract wants a `422` naming it.
    var durationSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case title, description
        case videoURL = "video_url"
        case thumbnailURL = "thumbnail_url"
        case durationSeconds = "duration_seconds"
    }

    /// The video to store, or a `422` listing every invalid field.
    func validated() throws -> NewVideo {
        var validator = Validator()
        let title = self.title ?? ""
        validator.check(
            (1...200).contains(title.count) && !title.allSatisfy(\.isWhitespace), "title", "Must be 1 to 200 characters, not all blank.")
        if let description {
            validator.check(description.count <= 5000, "description", "Must be at most 5000 characters.")
        }
        validator.check(self.videoURL.map(isHTTPURL) ?? false, "video_url", "Must be an http(s) URL of at most 2048 characters.")
        if let thumbnailURL {
            validator.check(isHTTPURL(thumbnailURL), "thumbnail_url", "Must be an http(s) URL of at most 2048 characters.")
        }
        let duration = self.durationSeconds.flatMap { $0.rounded() == $0 && (1...3600).contains($0) ? Int($0) : nil }
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

/// What the signed-in caller has done to a video and its owner.
struct VideoViewerState: Sendable, Equatable {
    var isLiked: Bool
    var isFollowing: Bool
}

/// A live video with its owner, as read by ``VideoStore``.
struct VideoRecord: Sendable {
    var id: UUID
    var title: String
    var description: String?
    var videoURL: String
    var thumbnailURL: String?
    var durationSeconds: Int
    var likeCount: Int
    var createdAt: Date
    var owner: UserRecord
    /// The feed's key of this video, for the cursor after it.
    var cursor: FeedCursor
    /// `nil` for anonymous callers.
    var viewer: VideoViewerState?

    /// Reads the columns ``SQLVideoStore`` selects; `owner` is read from the same row unless given.
    init(row: any SQLRow, owner: UserRecord? = nil) throws {
        self.id = try row.decode(column: "video_id", as: UUID.self)
        self.title = try row.decode(column: "title", as: String.self)
        self.description = try row.decode(column: "description", as: String?.self)
        self.videoURL = try row.decode(column: "video_url", as: String.self)
        self.thumbnailURL = try row.decode(column: "thumbnail_url", as: String?.self)
        self.durationSeconds = try row.decode(column: "duration_seconds", as: Int.self)
        self.likeCount = try row.decode(column: "like_count", as: Int.self)
        self.createdAt = try row.decode(column: "video_created_at", as: Date.self)
        self.owner = try owner ?? UserRecord(row: row)
        self.cursor = FeedCursor(instant: try row.decode(column: "sort_key", as: Double.self), id: self.id)
        if row.contains(column: "is_liked") {
            self.viewer = VideoViewerState(
                isLiked: try row.decode(column: "is_liked", as: Bool.self),
                isFollowing: try row.decode(column: "is_following", as: Bool.self)
            )
        }
    }

    var response: VideoResponse {
        VideoResponse(
            id: self.id.lowercased,
            title: self.title,
            description: self.description,
            videoURL: self.videoURL,
            thumbnailURL: self.thumbnailURL,
            durationSeconds: self.durationSeconds,
            likeCount: self.likeCount,
            createdAt: self.createdAt,
            user: self.owner.profile,
            viewer: self.viewer
        )
    }
}

/// `video` in API.md. Absent optional values are sent as `null`; `is_liked` and `is_following` are sent only
/// to a signed-in caller.
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
        case isLiked = "is_liked"
        case isFollowing = "is_following"
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
        if let viewer {
            try container.encode(viewer.isLiked, forKey: .isLiked)
            try container.encode(viewer.isFollowing, forKey: .isFollowing)
        }
    }
}
