import Foundation

/// A gateway that bills subscriptions itself (Stripe Billing): it keeps the customer, the subscription and its
/// renewals, and this server follows its webhooks. The mock gateway is none: the renewal service charges it.
protocol BillingGateway: Sendable {
    /// Creates the gateway's customer for a user (once: the key is the user's).
    func createCustomer(userID: UUID, email: String) async throws -> String
    /// Creates a subscription whose first invoice is paid at once or refused.
    func createSubscription(_ request: BilledSubscriptionRequest) async throws -> BilledSubscriptionOutcome
    /// Changes a subscription; any refusal is thrown, and then nothing changed.
    func update(_ subscription: BilledSubscriptionReference, _ change: BilledSubscriptionChange) async throws
    /// Ends a subscription at once.
    func cancelNow(_ subscription: BilledSubscriptionReference) async throws
}

struct BilledSubscriptionRequest: Sendable {
    var subscriptionID: UUID
    var userID: UUID
    var customerID: String
    var plan: SubscriptionPlan
    var paymentMethod: String
    var idempotencyKey: String
}

/// The gateway's ids of a subscription this server holds.
struct BilledSubscriptionReference: Sendable {
    var subscriptionID: String
    var itemID: String?
}

/// What the gateway made of a new subscription.
enum BilledSubscriptionOutcome: Sendable, Equatable {
    /// The first invoice is paid: its period is granted.
    case active(BilledSubscription, invoiceID: String)
    /// The first payment needs the customer (3-D Secure); `invoice.paid` grants it.
    case pending(BilledSubscription, paymentIntentID: String, clientSecret: String)
    case declined(message: String)
}

struct BilledSubscription: Sendable, Equatable {
    var id: String
    var itemID: String
    var periodStart: Date
    var periodEnd: Date
}

enum BilledSubscriptionChange: Sendable, Equatable {
    case cancelAtPeriodEnd(Bool)
    /// From the next renewal, without proration.
    case price(String)
    case defaultPaymentMethod(String)
}
