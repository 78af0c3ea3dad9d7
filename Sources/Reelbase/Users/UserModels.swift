import Hummingbird
import Foundation
import SQLKit

/// A user row as stored.
struct UserRecord: Sendable {
    var id: UUID
    var email: String
    var username: String
    var displayName: String
    var bio: String?
    var avatarURL: String?
    var followerCount: Int
    var followingCount: Int
    var videoCount: Int
    var credits: Int
    var role: UserRole
    var referralCode: String
    var createdAt: Date

    enum Column: String, CaseIterable {
        case id, email, username, bio, credits, role
        case referralCode = "referral_code"
        case displayName = "display_name"
        case avatarURL = "avatar_url"
        case followerCount = "follower_count"
        case followingCount = "following_count"
        case videoCount = "video_count"
        case createdAt = "created_at"
    }

    /// The columns a record is read from, for `SELECT`s and `RETURNING`s: spelled from ``Column``, so the two can
    /// never drift apart.
    static let columns: SQLQueryString = "\(SQLList(Column.allCases.map { SQLColumn($0.rawValue, table: "users") }))"

    var profile: UserProfile {
        UserProfile(
            id: self.id.lowercased,
            username: self.username,
            displayName: self.displayName,
            bio: self.bio,
            avatarURL: self.avatarURL,
            followerCount: self.followerCount,
            followingCount: self.followingCount,
            videoCount: self.videoCount,
            createdAt: self.createdAt
        )
    }
}

extension UserRecord: SQLRowReadable {
    init(row: any SQLRow) throws {
        let role = try row.decode(column: Column.role.rawValue, as: String.self)
        guard let userRole = UserRole(rawValue: role) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "users.role holds \(role)"))
        }
        self.init(
            id: try row.decode(column: Column.id.rawValue, as: UUID.self),
            email: try row.decode(column: Column.email.rawValue, as: String.self),
            username: try row.decode(column: Column.username.rawValue, as: String.self),
            displayName: try row.decode(column: Column.displayName.rawValue, as: String.self),
            bio: try row.decodeIfPresent(column: Column.bio.rawValue, as: String.self),
            avatarURL: try row.decodeIfPresent(column: Column.avatarURL.rawValue, as: String.self),
            followerCount: try row.decode(column: Column.followerCount.rawValue, as: Int.self),
            followingCount: try row.decode(column: Column.followingCount.rawValue, as: Int.self),
            videoCount: try row.decode(column: Column.videoCount.rawValue, as: Int.self),
            credits: try row.decode(column: Column.credits.rawValue, as: Int.self),
            role: userRole,
            referralCode: try row.decode(column: Column.referralCode.rawValue, as: String.self),
            createdAt: try row.decode(column: Column.createdAt.rawValue, as: Date.self)
        )
    }
}

/// A user in a newest-first list of users (followers, following, blocks): the row, and the list's key after it, read
/// from the row's `sort_key` column.
struct ListedUserRecord: SQLRowReadable {
    var user: UserRecord
    var cursor: FeedCursor

    init(row: any SQLRow) throws {
        self.user = try UserRecord(row: row)
        self.cursor = FeedCursor(instant: try row.decode(column: "sort_key", as: Double.self), id: self.user.id)
    }
}

/// The public profile (`user` in API.md). Absent optional values are sent as `null`, so every key is always there.
public struct UserProfile: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var username: String
    public var displayName: String
    public var bio: String?
    public var avatarURL: String?
    public var followerCount: Int
    public var followingCount: Int
    public var videoCount: Int
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, username, bio
        case displayName = "display_name"
        case avatarURL = "avatar_url"
        case followerCount = "follower_count"
        case followingCount = "following_count"
        case videoCount = "video_count"
        case createdAt = "created_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.username, forKey: .username)
        try container.encode(self.displayName, forKey: .displayName)
        try container.encode(self.bio, forKey: .bio)
        try container.encode(self.avatarURL, forKey: .avatarURL)
        try container.encode(self.followerCount, forKey: .followerCount)
        try container.encode(self.followingCount, forKey: .followingCount)
        try container.encode(self.videoCount, forKey: .videoCount)
        try container.encode(self.createdAt, forKey: .createdAt)
    }
}

/// `GET /v1/users/me`: the profile plus what only its owner sees.
struct CurrentUser: ResponseEncodable, Sendable {
    var profile: UserProfile
    var email: String
    var credits: Int
    var role: UserRole
    var referralCode: String

    enum CodingKeys: String, CodingKey {
        case email, credits, role
        case referralCode = "referral_code"
    }

    func encode(to encoder: any Encoder) throws {
        try self.profile.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.email, forKey: .email)
        try container.encode(self.credits, forKey: .credits)
        try container.encode(self.role, forKey: .role)
        try container.encode(self.referralCode, forKey: .referralCode)
    }
}

/// A profile with its role: what a role change answers.
struct UserWithRole: ResponseEncodable, Sendable {
    var profile: UserProfile
    var role: UserRole

    enum CodingKeys: String, CodingKey { case role }

    func encode(to encoder: any Encoder) throws {
        try self.profile.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.role, forKey: .role)
    }
}

/// `PATCH /v1/users/me`. A key left out keeps its value; `null` clears `bio` or `avatar_url`.
struct UpdateProfileRequest: Decodable {
    var displayName: FieldChange<String?> = .keep
    var bio: FieldChange<String?> = .keep
    var avatarURL: FieldChange<String?> = .keep

    enum CodingKeys: String, CodingKey {
        case bio
        case displayName = "display_name"
        case avatarURL = "avatar_url"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func change(_ key: CodingKeys) throws -> FieldChange<String?> {
            guard container.contains(key) else { return .keep }
            return .set(try container.decodeNil(forKey: key) ? nil : container.decode(String.self, forKey: key))
        }
        self.displayName = try change(.displayName)
        self.bio = try change(.bio)
        self.avatarURL = try change(.avatarURL)
    }

    /// The change to store, or a `422` listing every invalid field.
    func validated(urls: URLRule) throws -> ProfileChange {
        var validator = Validator()
        var displayName: FieldChange<String> = .keep
        if case .set(let name) = self.displayName {
            validator.checkLength(name ?? "", 1...100, "display_name", "Must be 1 to 100 characters.")
            // `null` fails the check above, so only a name ever reaches the store.
            displayName = name.map(FieldChange.set) ?? .keep
        }
        if case .set(let bio?) = self.bio {
            validator.checkLength(bio, 0...500, "bio", "Must be at most 500 characters.")
        }
        if case .set(let url?) = self.avatarURL {
            validator.checkURL(url, "avatar_url", rule: urls)
        }
        try validator.validate()
        return ProfileChange(displayName: displayName, bio: self.bio, avatarURL: self.avatarURL)
    }
}
