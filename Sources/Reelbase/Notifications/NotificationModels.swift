import Foundation
import Hummingbird
import SQLKit

/// The kinds of notification (API.md, "Notifications and live events"); those of features still to come are in the
/// table's check already, and get their case with their feature.
enum NotificationKind: String, Codable, Sendable, CaseIterable {
    case like, follow
    case effectSucceeded = "effect_succeeded"
    case effectFailed = "effect_failed"
    case purchaseCredited = "purchase_credited"
    case paymentRefunded = "payment_refunded"
    case creditsExpiring = "credits_expiring"
    case reportResolved = "report_resolved"
    case videoRemoved = "video_removed"
    case referralRewarded = "referral_rewarded"
    case subscriptionRenewed = "subscription_renewed"
    case subscriptionPaymentFailed = "subscription_payment_failed"
}

/// A notification to write: the kind and what it is about. The writer fills in the rest.
struct NewNotification: Sendable {
    var recipientID: UUID
    var kind: NotificationKind
    var actorID: UUID? = nil
    var videoID: UUID? = nil
    var jobID: UUID? = nil
    /// The credits moved (signed, as the ledger row), on every kind that moves credits.
    var credits: Int? = nil
    /// What only the sentence needs (a report's resolution, an expiring lot's UTC date, a subscription's plan name).
    var detail: String? = nil
}

/// A notification as stored, with its actor's profile and its video's title joined in.
struct NotificationRecord: Sendable, Decodable {
    var id: UUID
    var kind: NotificationKind
    var createdAt: Date
    var readAt: Date?
    var jobID: UUID?
    var credits: Int?
    var detail: String?
    var videoID: UUID?
    var videoTitle: String?
    var actor: UserProfile?
    var cursor: FeedCursor

    enum CodingKeys: String, CodingKey {
        case id, credits, detail
        case kind = "type"
        case createdAt = "created_at"
        case readAt = "read_at"
        case jobID = "job_id"
        case videoID = "video_id"
        case videoTitle = "video_title"
        case sortKey = "sort_key"
        case actorID = "actor_id"
        case actorUsername = "actor_username"
        case actorDisplayName = "actor_display_name"
        case actorBio = "actor_bio"
        case actorAvatarURL = "actor_avatar_url"
        case actorFollowerCount = "actor_follower_count"
        case actorFollowingCount = "actor_following_count"
        case actorVideoCount = "actor_video_count"
        case actorCreatedAt = "actor_created_at"
    }

    /// The columns a record decodes from: `notifications n`, its actor `a` and its video `v`, joined as ``joins``.
    static let columns: SQLQueryString = """
        n.id, n.type, n.created_at, n.read_at, n.job_id, n.credits, n.detail, n.video_id, v.title AS video_title, n.actor_id,
        a.username AS actor_username, a.display_name AS actor_display_name, a.bio AS actor_bio, a.avatar_url AS actor_avatar_url,
        a.follower_count AS actor_follower_count, a.following_count AS actor_following_count, a.video_count AS actor_video_count,
        a.created_at AS actor_created_at
        """

    static let joins: SQLQueryString = """
        LEFT JOIN users a ON a.id = n.actor_id LEFT JOIN videos v ON v.id = n.video_id LEFT JOIN users vo ON vo.id = v.user_id
        """

    init(from decoder: any Decoder) throws {
        let row = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try row.decode(UUID.self, forKey: .id)
        self.kind = try row.decode(NotificationKind.self, forKey: .kind)
        self.createdAt = try row.decode(Date.self, forKey: .createdAt)
        self.readAt = try row.decodeIfPresent(Date.self, forKey: .readAt)
        self.jobID = try row.decodeIfPresent(UUID.self, forKey: .jobID)
        self.credits = try row.decodeIfPresent(Int.self, forKey: .credits)
        self.detail = try row.decodeIfPresent(String.self, forKey: .detail)
        self.videoID = try row.decodeIfPresent(UUID.self, forKey: .videoID)
        self.videoTitle = try row.decodeIfPresent(String.self, forKey: .videoTitle)
        if let actorID = try row.decodeIfPresent(UUID.self, forKey: .actorID) {
            self.actor = UserProfile(
                id: actorID.lowercased, username: try row.decode(String.self, forKey: .actorUsername),
                displayName: try row.decode(String.self, forKey: .actorDisplayName), bio: try row.decodeIfPresent(String.self, forKey: .actorBio),
                avatarURL: try row.decodeIfPresent(String.self, forKey: .actorAvatarURL),
                followerCount: try row.decode(Int.self, forKey: .actorFollowerCount),
                followingCount: try row.decode(Int.self, forKey: .actorFollowingCount),
                videoCount: try row.decode(Int.self, forKey: .actorVideoCount), createdAt: try row.decode(Date.self, forKey: .actorCreatedAt))
        }
        self.cursor = FeedCursor(instant: try row.decode(Double.self, forKey: .sortKey), id: self.id)
    }

    /// `notification` of API.md.
    var view: NotificationView {
        NotificationView(
            id: self.id.lowercased, type: self.kind, createdAt: self.createdAt, readAt: self.readAt, actor: self.actor,
            video: self.videoID.map { NotificationView.Video(id: $0.lowercased, title: self.videoTitle ?? "") },
            jobID: self.jobID?.lowercased, credits: self.credits, text: self.text)
    }

    /// The ready English sentence of API.md's `text`.
    var text: String {
        let who = self.actor?.username ?? "Someone"
        let title = self.videoTitle.map { "\"\($0)\"" } ?? "a video"
        let credits = abs(self.credits ?? 0)
        let creditWord = credits == 1 ? "credit" : "credits"
        switch self.kind {
        case .like: return "\(who) liked your video \(title)."
        case .follow: return "\(who) started following you."
        case .effectSucceeded: return "Your effect on \(title) is ready."
        case .effectFailed: return "Your effect on \(title) failed; \(credits) \(creditWord) were refunded."
        case .purchaseCredited: return "Your payment went through: \(credits) \(creditWord) were added to your balance."
        case .paymentRefunded: return "A card refund took back \(credits) \(creditWord)."
        case .creditsExpiring: return "\(credits) \(creditWord) \(credits == 1 ? "expires" : "expire") on \(self.detail ?? "their expiry date")."
        case .reportResolved:
            switch self.detail.flatMap(ReportResolution.init(rawValue:)) {
            case .videoRemoved: return "Thanks for your report: the video was removed."
            case .userSuspended: return "Thanks for your report: the account was suspended."
            case .noAction, nil: return "Thanks for your report: we reviewed it and took no action."
            }
        case .videoRemoved: return "Your video \(title) was removed by a moderator."
        case .referralRewarded: return "\(who) joined with your invite: \(credits) \(creditWord) were added to your balance."
        case .subscriptionRenewed: return "Your \(self.detail ?? "") subscription renewed: \(credits) \(creditWord) were added to your balance."
        case .subscriptionPaymentFailed:
            return "We could not charge your card for your \(self.detail ?? "") subscription; we will try again. Update your payment method to keep it."
        }
    }
}

/// `notification`: `{id, type, created_at, read_at, actor, video, job_id, credits, text}`, every key always present.
struct NotificationView: Encodable, Sendable {
    struct Video: Encodable, Sendable {
        var id: String
        var title: String
    }

    var id: String
    var type: NotificationKind
    var createdAt: Date
    var readAt: Date?
    var actor: UserProfile?
    var video: Video?
    var jobID: String?
    var credits: Int?
    var text: String

    enum CodingKeys: String, CodingKey {
        case id, type, actor, video, credits, text
        case createdAt = "created_at"
        case readAt = "read_at"
        case jobID = "job_id"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.type, forKey: .type)
        try container.encode(self.createdAt, forKey: .createdAt)
        try container.encode(self.readAt, forKey: .readAt)
        try container.encode(self.actor, forKey: .actor)
        try container.encode(self.video, forKey: .video)
        try container.encode(self.jobID, forKey: .jobID)
        try container.encode(self.credits, forKey: .credits)
        try container.encode(self.text, forKey: .text)
    }
}

/// `GET /v1/notifications/unread-count`.
struct UnreadCountResponse: ResponseEncodable, Sendable {
    var count: Int
}

/// `POST /v1/notifications/read-all`.
struct ReadAllResponse: ResponseEncodable, Sendable {
    var updated: Int
}
