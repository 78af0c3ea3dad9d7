import Foundation
import Hummingbird
import SQLKit

/// API.md's subscription statuses. `incomplete`: the first period is not paid yet; `past_due`: a renewal failed and is
/// being retried; `canceled` is final.
enum SubscriptionStatus: String, Codable, Sendable {
    case incomplete, active
    case pastDue = "past_due"
    case canceled

    /// The statuses of a user's one live subscription (the unique index of V019).
    static let live: [SubscriptionStatus] = [.incomplete, .active, .pastDue]
}

/// A `subscriptions` row.
struct Subscription: Sendable, Decodable {
    var id: UUID
    var userID: UUID
    var planID: String
    var planName: String
    var creditsPerPeriod: Int
    var priceCents: Int
    var currency: String
    var status: SubscriptionStatus
    var paymentMethod: String
    var paymentToken: String?
    var gateway: String
    var anchor: Date
    var periodIndex: Int
    var currentPeriodStart: Date
    var currentPeriodEnd: Date
    var cancelAtPeriodEnd: Bool
    var pendingPlanID: String?
    var failedAttempts: Int
    var nextAttemptAt: Date?
    var creationKey: String
    var gatewaySubscriptionID: String?
    var gatewayItemID: String?
    var lastEventAt: Int
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, currency, status, gateway, anchor
        case userID = "user_id"
        case planID = "plan_id"
        case planName = "plan_name"
        case creditsPerPeriod = "credits_per_period"
        case priceCents = "price_cents"
        case paymentMethod = "payment_method"
        case paymentToken = "payment_token"
        case periodIndex = "period_index"
        case currentPeriodStart = "current_period_start"
        case currentPeriodEnd = "current_period_end"
        case cancelAtPeriodEnd = "cancel_at_period_end"
        case pendingPlanID = "pending_plan_id"
        case failedAttempts = "failed_attempts"
        case nextAttemptAt = "next_attempt_at"
        case creationKey = "creation_key"
        case gatewaySubscriptionID = "gateway_subscription_id"
        case gatewayItemID = "gateway_item_id"
        case lastEventAt = "last_event_at"
        case createdAt = "created_at"
    }

    static let columns: SQLQueryString = """
        id, user_id, plan_id, plan_name, credits_per_period, price_cents, currency, status, payment_method, payment_token, gateway, \
        anchor, period_index, current_period_start, current_period_end, cancel_at_period_end, pending_plan_id, failed_attempts, \
        next_attempt_at, creation_key, gateway_subscription_id, gateway_item_id, last_event_at, created_at
        """

    /// Its objects at the gateway that bills it (Stripe Billing), once created there.
    var billed: BilledSubscriptionReference? {
        self.gatewaySubscriptionID.map { BilledSubscriptionReference(subscriptionID: $0, itemID: self.gatewayItemID) }
    }

    /// The plan it was bought with, as kept on the row (the plans file may have changed since).
    var plan: SubscriptionPlan {
        SubscriptionPlan(id: self.planID, name: self.planName, creditsPerPeriod: self.creditsPerPeriod, priceCents: self.priceCents, currency: self.currency)
    }
}

/// Why a subscription request cannot be done; nothing was changed.
enum SubscriptionError: Error, Sendable, Equatable {
    /// The user already has a live subscription (`incomplete`, `active` or `past_due`).
    case exists
    /// The user has never subscribed.
    case notFound
    /// The subscription is `canceled`; only a new one can be bought.
    case ended
    /// The gateway declined the charge at a new payment method; `message` is its own.
    case declined(message: String)
}

extension SubscriptionError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .exists:
            Problem(.conflict, code: "subscription_exists", detail: "You already have a subscription; change or cancel it instead.")
        case .notFound:
            Problem(.notFound, code: "subscription_not_found", detail: "You have no subscription.")
        case .ended:
            Problem(.conflict, code: "subscription_ended", detail: "This subscription has ended; start a new one.")
        case .declined(let message):
            Problem(.paymentRequired, code: "payment_failed", detail: message)
        }
    }
}

/// `subscription` of API.md.
struct SubscriptionView: Codable, Sendable, ResponseEncodable {
    var id: String
    var planID: String
    var status: SubscriptionStatus
    var currentPeriodStart: Date
    var currentPeriodEnd: Date
    var cancelAtPeriodEnd: Bool
    var pendingPlanID: String?
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, status
        case planID = "plan_id"
        case currentPeriodStart = "current_period_start"
        case currentPeriodEnd = "current_period_end"
        case cancelAtPeriodEnd = "cancel_at_period_end"
        case pendingPlanID = "pending_plan_id"
        case createdAt = "created_at"
    }

    init(_ subscription: Subscription) {
        self.id = subscription.id.lowercased
        self.planID = subscription.planID
        self.status = subscription.status
        self.currentPeriodStart = subscription.currentPeriodStart
        self.currentPeriodEnd = subscription.currentPeriodEnd
        self.cancelAtPeriodEnd = subscription.cancelAtPeriodEnd
        self.pendingPlanID = subscription.pendingPlanID
        self.createdAt = subscription.createdAt
    }

    /// Every key always present: `pending_plan_id` is `null` rather than left out.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.planID, forKey: .planID)
        try container.encode(self.status, forKey: .status)
        try container.encode(self.currentPeriodStart, forKey: .currentPeriodStart)
        try container.encode(self.currentPeriodEnd, forKey: .currentPeriodEnd)
        try container.encode(self.cancelAtPeriodEnd, forKey: .cancelAtPeriodEnd)
        try container.encode(self.pendingPlanID, forKey: .pendingPlanID)
        try container.encode(self.createdAt, forKey: .createdAt)
    }
}

/// `POST /v1/subscriptions` body.
struct SubscribeRequest: Decodable, Sendable {
    var planID: String
    var paymentMethod: String
    var paymentToken: String

    enum CodingKeys: String, CodingKey {
        case planID = "plan_id"
        case paymentMethod = "payment_method"
        case paymentToken = "payment_token"
    }

    var fingerprint: RequestFingerprint { RequestFingerprint(self.planID, self.paymentMethod, self.paymentToken) }
}

/// `PATCH /v1/subscriptions/current` body.
struct SubscriptionChangeRequest: Decodable, Sendable {
    var planID: String?
    var paymentMethod: String?
    var paymentToken: String?

    enum CodingKeys: String, CodingKey {
        case planID = "plan_id"
        case paymentMethod = "payment_method"
        case paymentToken = "payment_token"
    }
}

/// `201` of `POST /v1/subscriptions`.
struct SubscribedResponse: Encodable, Sendable {
    var subscription: SubscriptionView
    var transactionID: String
    var creditsAdded: Int
    var newBalance: Int

    enum CodingKeys: String, CodingKey {
        case subscription
        case transactionID = "transaction_id"
        case creditsAdded = "credits_added"
        case newBalance = "new_balance"
    }
}

/// `202` of `POST /v1/subscriptions`: the first payment needs the customer.
struct PendingSubscriptionResponse: Encodable, Sendable {
    var subscription: SubscriptionView
    var paymentIntentID: String
    var clientSecret: String

    enum CodingKeys: String, CodingKey {
        case subscription
        case paymentIntentID = "payment_intent_id"
        case clientSecret = "client_secret"
    }
}
