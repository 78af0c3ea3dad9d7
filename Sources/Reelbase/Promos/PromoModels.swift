import Foundation
import Hummingbird
import SQLKit

/// A promo code as admins see it (API.md `promo_code`: absent options are `null`, every key always there).
struct PromoCode: Sendable, Decodable, ResponseEncodable {
    var id: UUID
    var code: String
    var credits: Int
    var maxRedemptions: Int?
    var redemptions: Int
    var expiresAt: Date?
    var creditsTTLDays: Int?
    var creditsExpireAt: Date?
    var createdAt: Date
    /// The list key, as ``SQLDialectKind/exactInstant(_:)`` reads `created_at`.
    var sortKey: Double

    enum CodingKeys: String, CodingKey {
        case id, code, credits, redemptions
        case maxRedemptions = "max_redemptions"
        case expiresAt = "expires_at"
        case creditsTTLDays = "credits_ttl_days"
        case creditsExpireAt = "credits_expire_at"
        case createdAt = "created_at"
        case sortKey = "sort_key"
    }

    static func columns(_ dialect: SQLDialectKind) -> SQLQueryString {
        """
        id, code, credits, max_redemptions, redemptions, expires_at, credits_ttl_days, credits_expire_at, created_at,
        \(dialect.exactInstant("created_at")) AS sort_key
        """
    }

    var cursor: FeedCursor { FeedCursor(instant: self.sortKey, id: self.id) }

    /// When the credits of a redemption made at `now` expire (`nil`: never).
    func creditsExpiry(redeemedAt now: Date) -> Date? {
        self.creditsExpireAt ?? self.creditsTTLDays.map { now.addingTimeInterval(Double($0) * 86_400) }
    }

    func encode(to encoder: any Encoder) throws {
        var json = encoder.container(keyedBy: CodingKeys.self)
        try json.encode(self.code, forKey: .code)
        try json.encode(self.credits, forKey: .credits)
        try json.encode(self.maxRedemptions, forKey: .maxRedemptions)
        try json.encode(self.redemptions, forKey: .redemptions)
        try json.encode(self.expiresAt, forKey: .expiresAt)
        try json.encode(self.creditsTTLDays, forKey: .creditsTTLDays)
        try json.encode(self.creditsExpireAt, forKey: .creditsExpireAt)
        try json.encode(self.createdAt, forKey: .createdAt)
    }
}

/// A code an admin is creating, checked.
struct NewPromoCode: Sendable {
    var code: String
    var credits: Int
    var maxRedemptions: Int?
    var expiresAt: Date?
    var creditsTTLDays: Int?
    var creditsExpireAt: Date?

    /// API.md: 4–32 of A–Z 0–9 `_` `-`, stored upper-case.
    static let codeLength = 4...32
    static let creditRange = 1...100_000
    static let maxRedemptionsRange = 1...1_000_000
    static let ttlDaysRange = 1...3650

    /// A code as typed, trimmed and upper-cased: how codes are stored and compared.
    static func normalized(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
    }

    static func isWellFormed(_ code: String) -> Bool {
        Self.codeLength.contains(code.utf8.count)
            && code.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}

/// What a redemption credited.
struct PromoRedemption: Sendable {
    var entry: CreditLedger.Entry
    /// When the credits expire (`nil`: never).
    var expiresAt: Date?
}

/// Why a promo code could not be created, changed or redeemed; API.md lists a redemption's checks in this order.
enum PromoError: Error, Sendable, Equatable {
    case notFound
    case alreadyRedeemed
    case expired
    case exhausted
    case codeTaken
}
