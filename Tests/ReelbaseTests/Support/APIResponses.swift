import Foundation

/// The API's JSON bodies as a client reads them (API.md), decoded with ``TestResponse/decode(_:)``.
/// Member names are the JSON's, converted from snake_case; timestamps stay the strings the API sends.
/// Decoding ignores members a type does not name: tests that pin a body's exact members use ``keys(of:)``.
enum API {
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    // MARK: Auth and users

    struct Auth: Decodable, Equatable {
        var user: Profile
        var accessToken: String
        var refreshToken: String
        var tokenType: String
        var expiresIn: Int
    }

    /// `user` in API.md: a public profile.
    struct Profile: Decodable, Equatable {
        var id: String
        var username: String
        var displayName: String
        var bio: String?
        var avatarUrl: String?
        var followerCount: Int
        var followingCount: Int
        var videoCount: Int
        var createdAt: String
    }

    /// `GET /v1/users/me`: the profile with the caller's email, credits and role.
    struct Me: Decodable, Equatable {
        var profile: Profile
        var email: String
        var credits: Int
        var role: String

        enum CodingKeys: CodingKey { case email, credits, role }

        init(from decoder: any Decoder) throws {
            self.profile = try Profile(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.email = try container.decode(String.self, forKey: .email)
            self.credits = try container.decode(Int.self, forKey: .credits)
            self.role = try container.decode(String.self, forKey: .role)
        }
    }

    /// `PUT /v1/admin/users/{id}/role`: the profile with its role.
    struct UserWithRole: Decodable, Equatable {
        var profile: Profile
        var role: String

        enum CodingKeys: CodingKey { case role }

        init(from decoder: any Decoder) throws {
            self.profile = try Profile(from: decoder)
            self.role = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .role)
        }
    }

    /// A profile in a follower or following list, with the signed-in viewer's state.
    struct ListedUser: Decodable, Equatable {
        var profile: Profile
        var isFollowing: Bool?
        var followsYou: Bool?

        enum CodingKeys: CodingKey { case isFollowing, followsYou }

        init(from decoder: any Decoder) throws {
            self.profile = try Profile(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.isFollowing = try container.decodeIfPresent(Bool.self, forKey: .isFollowing)
            self.followsYou = try container.decodeIfPresent(Bool.self, forKey: .followsYou)
        }
    }

    // MARK: Videos and cursor lists

    struct Video: Decodable, Equatable {
        var id: String
        var title: String
        var description: String?
        var videoUrl: String
        var thumbnailUrl: String?
        var durationSeconds: Int
        var likeCount: Int
        var createdAt: String
        var user: Profile
        var isLiked: Bool?
        var isFollowing: Bool?
        var isBookmarked: Bool?
    }

    struct VideoPage: CursorPage {
        static let itemsKey = "videos"
        var videos: [Video]
        var nextCursor: String?
        var hasMore: Bool
        var items: [Video] { self.videos }
    }

    struct UserPage: CursorPage {
        static let itemsKey = "users"
        var users: [ListedUser]
        var nextCursor: String?
        var hasMore: Bool
        var items: [ListedUser] { self.users }
    }

    struct JobPage: CursorPage {
        static let itemsKey = "jobs"
        var jobs: [Job]
        var nextCursor: String?
        var hasMore: Bool
        var items: [Job] { self.jobs }
    }

    // MARK: Social

    struct LikeStatus: Decodable, Equatable {
        var videoId: String
        var isLiked: Bool
        var likeCount: Int
    }

    struct LikeCheck: Decodable, Equatable {
        var videoId: String
        var isLiked: Bool
    }

    struct FollowStatus: Decodable, Equatable {
        var userId: String
        var isFollowing: Bool
        var followerCount: Int
    }

    struct FollowCheck: Decodable, Equatable {
        var userId: String
        var isFollowing: Bool
    }

    struct BlockStatus: Decodable, Equatable {
        var userId: String
        var isBlocked: Bool
    }

    struct BookmarkStatus: Decodable, Equatable {
        var videoId: String
        var isBookmarked: Bool
    }

    /// `POST /v1/likes/check-batch`. Its keys are ids, which the snake_case conversion leaves as they are.
    struct LikedVideos: Decodable, Equatable {
        var likedVideos: [String: Bool]
    }

    /// `POST /v1/follows/check-batch`.
    struct FollowingUsers: Decodable, Equatable {
        var followingUsers: [String: Bool]
    }

    // MARK: Credits

    struct Packages: Decodable, Equatable {
        var packages: [Package]
    }

    struct Package: Decodable, Equatable {
        var id: String
        var credits: Int
        var price: Double
        var name: String
        var pricePerCredit: Double
        var currency: String
    }

    struct Purchase: Decodable, Equatable {
        var transactionId: String
        var creditsAdded: Int
        var newBalance: Int
        var amountPaid: Double
        var currency: String
    }

    /// `202` of a purchase that waits for the customer (3-D Secure).
    struct PendingPurchase: Decodable, Equatable {
        var status: String
        var paymentIntentId: String
        var clientSecret: String
    }

    struct Balance: Decodable, Equatable {
        var balance: Int
        var totalEarned: Int
        var totalSpent: Int
        var totalExpired = 0
        var expiring: [Expiring] = []

        struct Expiring: Decodable, Equatable {
            var credits: Int
            var expiresAt: String
        }
    }

    struct History: Decodable, Equatable {
        var transactions: [LedgerRow]
        var total: Int
        var page: Int
        var pageSize: Int
        var hasMore: Bool
    }

    struct LedgerRow: Decodable, Equatable {
        var id: String
        var transactionType: String
        var credits: Int
        var balanceAfter: Int
        var description: String
        var createdAt: String
    }

    /// `GET /v1/admin/credits/audit`.
    /// `POST /v1/admin/credits/grants`: the history row, `user_id` and `expires_at`.
    struct Grant: Decodable, Equatable {
        var id: String
        var transactionType: String
        var credits: Int
        var userId: String
        var expiresAt: String?
    }

    struct PromoCode: Decodable, Equatable {
        var code: String
        var credits: Int
        var maxRedemptions: Int?
        var redemptions: Int
        var expiresAt: String?
        var creditsTtlDays: Int?
        var creditsExpireAt: String?
        var createdAt: String
    }

    struct PromoPage: CursorPage {
        static let itemsKey = "promo_codes"
        var promoCodes: [PromoCode]
        var nextCursor: String?
        var hasMore: Bool
        var items: [PromoCode] { self.promoCodes }
    }

    struct Redemption: Decodable, Equatable {
        var transactionId: String
        var creditsAdded: Int
        var newBalance: Int
        var expiresAt: String?
    }

    struct Audit: Decodable, Equatable {
        var usersChecked: Int
        var mismatches: [Mismatch]
        var overdueLots: [OverdueLot]
        var promoCodesOverLimit: [OverRedeemedCode]

        struct OverRedeemedCode: Decodable, Equatable {
            var code: String
            var maxRedemptions: Int?
            var redemptions: Int
            var redeemed: Int
        }
        var paymentMismatches: [PaymentMismatch]
        var referralsRewardedTwice: [RepeatedReferralBonus]
        var subscriptionPeriodsGrantedTwice: [RepeatedSubscriptionGrant]

        struct RepeatedSubscriptionGrant: Decodable, Equatable {
            var subscriptionId: String
            var periodIndex: String
            var grants: Int
        }

        struct RepeatedReferralBonus: Decodable, Equatable {
            var referredUserId: String
            var userId: String
            var bonuses: Int
        }

        struct Mismatch: Decodable, Equatable {
            var userId: String
            var balance: Int
            var ledgerSum: Int
            var badRowIds: [String]
            var badLotIds: [String]
        }

        struct OverdueLot: Decodable, Equatable {
            var lotId: String
            var userId: String
            var remaining: Int
            var expiresAt: String
        }

        struct PaymentMismatch: Decodable, Equatable {
            var paymentId: String
            var userId: String
            var reason: String
        }
    }

    // MARK: Effects

    struct Effects: Decodable, Equatable {
        var effects: [Effect]
    }

    struct Effect: Decodable, Equatable {
        var id: String
        var name: String
        var credits: Int
    }

    /// `202` of `POST /v1/effects/{effect_id}/jobs`.
    struct JobAccepted: Decodable, Equatable {
        var jobId: String
        var status: String
        var creditsCharged: Int
        var newBalance: Int
    }

    /// A job as its owner sees it; the worker's claim adds `user_id` and `video_url`.
    struct Job: Decodable, Equatable {
        var jobId: String
        var effectId: String
        var videoId: String
        var status: String
        var creditsCharged: Int
        var outputUrl: String?
        var error: String?
        var createdAt: String
        var updatedAt: String
        var userId: String?
        var videoUrl: String?
    }

    // MARK: Reports and moderation

    /// `report` in API.md.
    struct Report: Decodable, Equatable {
        var id: String
        var targetType: String
        var targetId: String
        var category: String
        var comment: String?
        var status: String
        var resolution: String?
        var createdAt: String
        var resolvedAt: String?
    }

    struct ReportPage: CursorPage {
        static let itemsKey = "reports"
        var reports: [Report]
        var nextCursor: String?
        var hasMore: Bool
        var items: [Report] { self.reports }
    }

    /// A report of the moderators' queue: `report` plus its reporter and its target's open-report count.
    struct QueuedReport: Decodable, Equatable {
        var report: Report
        var reporter: Profile
        var reportCountForTarget: Int

        enum CodingKeys: CodingKey { case reporter, reportCountForTarget }

        init(from decoder: any Decoder) throws {
            self.report = try Report(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.reporter = try container.decode(Profile.self, forKey: .reporter)
            self.reportCountForTarget = try container.decode(Int.self, forKey: .reportCountForTarget)
        }
    }

    struct QueuePage: CursorPage {
        static let itemsKey = "reports"
        var reports: [QueuedReport]
        var nextCursor: String?
        var hasMore: Bool
        var items: [QueuedReport] { self.reports }
    }

    struct Suspension: Decodable, Equatable {
        var userId: String
        var suspended: Bool
        var reason: String?
        var suspendedAt: String?
    }

    /// An account of `GET /v1/admin/users`.
    struct Account: Decodable, Equatable {
        var profile: Profile
        var email: String
        var role: String
        var suspended: Bool
        var suspendedAt: String?

        enum CodingKeys: CodingKey { case email, role, suspended, suspendedAt }

        init(from decoder: any Decoder) throws {
            self.profile = try Profile(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.email = try container.decode(String.self, forKey: .email)
            self.role = try container.decode(String.self, forKey: .role)
            self.suspended = try container.decode(Bool.self, forKey: .suspended)
            self.suspendedAt = try container.decodeIfPresent(String.self, forKey: .suspendedAt)
        }
    }

    struct AccountPage: CursorPage {
        static let itemsKey = "users"
        var users: [Account]
        var nextCursor: String?
        var hasMore: Bool
        var items: [Account] { self.users }
    }

    struct LogEntry: Decodable, Equatable {
        var id: String
        var actor: Profile?
        var action: String
        var targetType: String
        var targetId: String
        var note: String?
        var createdAt: String
    }

    struct LogPage: CursorPage {
        static let itemsKey = "entries"
        var entries: [LogEntry]
        var nextCursor: String?
        var hasMore: Bool
        var items: [LogEntry] { self.entries }
    }

    struct JobCounts: Decodable, Equatable {
        var queued: Int
        var running: Int
        var succeeded: Int
        var failed: Int
    }

    // MARK: HTTP

    /// An RFC 9457 problem, with the members Reelbase adds.
    struct Problem: Decodable, Equatable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var code: String
        var errors: [FieldError]?
        /// `insufficient_credits`: what the operation costs and what the caller holds.
        var required: Int?
        var balance: Int?
    }

    /// One entry of a 422's `errors`: exactly `field` and `message`, nothing else.
    struct FieldError: Decodable, Equatable {
        var field: String
        var message: String

        init(field: String, message: String) {
            self.field = field
            self.message = message
        }

        init(from decoder: any Decoder) throws {
            let members = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
            guard Set(members) == ["field", "message"] else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "members \(members)"))
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.field = try container.decode(String.self, forKey: .field)
            self.message = try container.decode(String.self, forKey: .message)
        }

        enum CodingKeys: CodingKey { case field, message }
    }

    struct OpenAPIDocument: Decodable {
        var openapi: String
    }
}

/// A cursor list's answer: `{<items key>: [...], next_cursor, has_more}`.
protocol CursorPage: Decodable {
    associatedtype Item: Decodable
    static var itemsKey: String { get }
    var items: [Item] { get }
    var nextCursor: String? { get }
    var hasMore: Bool { get }
}

// MARK: Exact members

/// A JSON value reduced to its structure, with member names exactly as sent: for tests that pin a body's members.
enum JSONShape: Decodable, Equatable {
    case object([String: JSONShape])
    case array([JSONShape])
    case scalar

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var members: [String: JSONShape] = [:]
            for key in object.allKeys { members[key.stringValue] = try object.decode(JSONShape.self, forKey: key) }
            self = .object(members)
        } else if var array = try? decoder.unkeyedContainer() {
            var elements: [JSONShape] = []
            while !array.isAtEnd { elements.append(try array.decode(JSONShape.self)) }
            self = .array(elements)
        } else {
            self = .scalar
        }
    }

    /// The member names of an object; empty for anything else.
    var keys: Set<String> {
        guard case .object(let members) = self else { return [] }
        return Set(members.keys)
    }

    /// The member `key` of an object; `.scalar` when there is none.
    subscript(key: String) -> JSONShape {
        guard case .object(let members) = self else { return .scalar }
        return members[key] ?? .scalar
    }

    /// The elements of an array; empty for anything else.
    var elements: [JSONShape] {
        guard case .array(let elements) = self else { return [] }
        return elements
    }
}

/// The structure of a response's JSON body, member names as sent.
func shape(of response: TestResponse) throws -> JSONShape {
    try JSONDecoder().decode(JSONShape.self, from: response.body)
}

/// The member names of a response's top-level JSON object, exactly as sent.
func keys(of response: TestResponse) throws -> Set<String> {
    let body = try shape(of: response)
    guard case .object = body else { throw TestSetupError("response body is not a JSON object: \(response.text)") }
    return body.keys
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The members of `video` in API.md, and the three a signed-in caller also gets.
let videoKeys: Set<String> = [
    "id", "title", "description", "video_url", "thumbnail_url", "duration_seconds", "like_count", "created_at", "user",
]
let viewerKeys: Set<String> = ["is_liked", "is_following", "is_bookmarked"]
/// The members of `report` in API.md.
let reportKeys: Set<String> = [
    "id", "target_type", "target_id", "category", "comment", "status", "resolution", "created_at", "resolved_at",
]
/// The members of `user` in API.md.
let userKeys: Set<String> = [
    "id", "username", "display_name", "bio", "avatar_url", "follower_count", "following_count", "video_count", "created_at",
]
