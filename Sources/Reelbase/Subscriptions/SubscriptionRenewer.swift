import Foundation
import Logging
import ServiceLifecycle

/// Renews subscriptions whose period ended, retries past-due ones and ends canceling ones (API.md, "Renewals"),
/// for the gateway whose renewals this server charges itself (`mock`; Stripe Billing renews on Stripe's side).
///
/// Runs inside `serve` on every instance. Instances claim different subscriptions (``SubscriptionBilling/claimDue``);
/// even two charging one period charge it once (the gateway key of its period and attempt) and grant it once (the
/// primary key of `subscription_grants`).
struct SubscriptionRenewer: Service {
    let billing: SubscriptionBilling
    /// How often due subscriptions are looked for: a tenth of a fixed period (at least every second), else a minute.
    let interval: Duration
    let logger: Logger

    static let batchSize = 20
    /// How long a claimed subscription is left to the instance that claimed it before another may look at it.
    static let lease: TimeInterval = 60

    init(billing: SubscriptionBilling, periodSeconds: Int?, logger: Logger) {
        self.billing = billing
        self.interval = .seconds(periodSeconds.map { min(60, max(1, $0 / 10)) } ?? 60)
        self.logger = logger
    }

    /// Added to `serve` only for the gateway whose renewals this server charges (a service that returns would end
    /// the whole service group).
    func run() async throws {
        await runPeriodically(every: self.interval, after: self.billing.database.migrated, logger: self.logger, failure: "subscription renewals failed") {
            try await self.pass()
        }
    }

    /// One pass over every subscription due at `now`; returns how many it looked at.
    @discardableResult
    func pass(now: Date = Date()) async throws -> Int {
        var looked = 0
        while true {
            let due = try await self.billing.claimDue(now: now, limit: Self.batchSize, lease: Self.lease)
            for subscription in due {
                // One subscription's failure (an unreachable gateway, a row it cannot read) must not hold up the
                // others; its lease makes it wait its turn again.
                do {
                    try await self.billing.renew(subscription, now: now, logger: self.logger)
                } catch {
                    self.logger.warning(
                        "renewing a subscription failed; trying again after the lease",
                        metadata: ["subscription_id": .string(subscription.id.lowercased), "error": .string(String(reflecting: error))])
                }
            }
            looked += due.count
            if due.count < Self.batchSize { return looked }
        }
    }
}
