import Foundation
import Hummingbird

/// A subscription plan: credits granted each period for a price charged each period.
struct SubscriptionPlan: Sendable, Equatable {
    var id: String
    var name: String
    var creditsPerPeriod: Int
    var priceCents: Int
    var currency: String
    /// The Stripe Price a Stripe Billing subscription is made on (required under the Stripe gateway).
    var stripePriceID: String?
}

/// The plans on sale: the built-in two, or those of `SUBSCRIPTION_PLANS_FILE`.
struct SubscriptionPlans: Sendable {
    let plans: [SubscriptionPlan]

    static let builtIn = SubscriptionPlans(plans: [
        SubscriptionPlan(id: "plus_monthly", name: "Plus", creditsPerPeriod: 600, priceCents: 999, currency: "USD"),
        SubscriptionPlan(id: "pro_monthly", name: "Pro", creditsPerPeriod: 2500, priceCents: 2999, currency: "USD"),
    ])

    init(plans: [SubscriptionPlan]) {
        self.plans = plans
    }

    func plan(id: String) -> SubscriptionPlan? {
        self.plans.first { $0.id == id }
    }

    /// Reads a plans file: `{"plans": [{"id", "name", "credits_per_period", "price", "currency"?, "stripe_price_id"?}]}`,
    /// prices as decimal numbers of at most two places. Anything else stops start-up with a message saying what is wrong.
    init(contentsOf path: String) throws {
        struct File: Decodable {
            struct Plan: Decodable {
                var id: String
                var name: String
                var creditsPerPeriod: Int
                var price: Decimal
                var currency: String?
                var stripePriceID: String?
                enum CodingKeys: String, CodingKey {
                    case id, name, price, currency
                    case creditsPerPeriod = "credits_per_period"
                    case stripePriceID = "stripe_price_id"
                }
            }
            var plans: [Plan]
        }
        let file = try ConfigurationError.decodeFile(File.self, at: path, setting: "SUBSCRIPTION_PLANS_FILE", holding: "plans")
        var seen = Set<String>()
        self.plans = try file.plans.map { plan in
            guard let priceCents = Money.positiveCents(plan.price) else {
                throw ConfigurationError("SUBSCRIPTION_PLANS_FILE: plan '\(plan.id)' needs a positive price with at most two decimals")
            }
            guard plan.creditsPerPeriod > 0, !plan.id.isEmpty, !plan.name.isEmpty, seen.insert(plan.id).inserted else {
                throw ConfigurationError("SUBSCRIPTION_PLANS_FILE: plan '\(plan.id)' needs a unique id, a name and credits_per_period > 0")
            }
            return SubscriptionPlan(
                id: plan.id, name: plan.name, creditsPerPeriod: plan.creditsPerPeriod, priceCents: priceCents,
                currency: (plan.currency ?? "USD").uppercased(), stripePriceID: plan.stripePriceID)
        }
        guard !self.plans.isEmpty else { throw ConfigurationError("SUBSCRIPTION_PLANS_FILE \(path) lists no plans") }
    }
}

/// `GET /v1/subscriptions/plans`
struct PlanList: ResponseEncodable {
    struct Item: Encodable {
        var id: String
        var name: String
        var creditsPerPeriod: Int
        var price: Money
        var currency: String
        var interval = "month"

        enum CodingKeys: String, CodingKey {
            case id, name, price, currency, interval
            case creditsPerPeriod = "credits_per_period"
        }
    }

    var plans: [Item]

    init(_ plans: SubscriptionPlans) {
        self.plans = plans.plans.map {
            Item(id: $0.id, name: $0.name, creditsPerPeriod: $0.creditsPerPeriod, price: Money(cents: $0.priceCents), currency: $0.currency)
        }
    }
}
