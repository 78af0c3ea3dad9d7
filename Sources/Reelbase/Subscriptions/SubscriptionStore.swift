import Foundation
import SQLKit

/// The `subscriptions` table as the API changes it: the live slot claimed before the first charge, the caller's
/// latest subscription, cancel, resume and plan or payment-method changes.
struct SubscriptionStore: Sendable {
    let database: Database
    let periods: SubscriptionPeriods

    /// A subscription about to be charged for its first period.
    struct NewSubscription: Sendable {
        var userID: UUID
        var plan: SubscriptionPlan
        var paymentMethod: String
        var paymentToken: String
        var gateway: String
        /// Names this creation: the same request retried under the same `Idempotency-Key` gets the same subscription.
        var creationKey: String
    }

    /// Claims the user's one live subscription `incomplete`, with its first period starting now, in the caller's
    /// transaction. The same creation retried gets the subscription it made; any other live one is
    /// ``SubscriptionError/exists``.
    func claimLive(_ new: NewSubscription, on connection: any SQLDatabase) async throws -> Subscription {
        // Whole seconds, so that the periods' bounds are exactly what the API's timestamps (whole seconds) show.
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let dialect = self.database.dialect
        try await connection.raw(
            """
            INSERT INTO subscriptions (id, user_id, plan_id, plan_name, credits_per_period, price_cents, currency, status,
                                       payment_method, payment_token, gateway, anchor, period_index, current_period_start,
                                       current_period_end, creation_key, created_at, updated_at)
            VALUES (\(bind: UUID()), \(bind: new.userID), \(bind: new.plan.id), \(bind: new.plan.name), \(bind: new.plan.creditsPerPeriod),
                    \(bind: new.plan.priceCents), \(bind: new.plan.currency), \(literal: SubscriptionStatus.incomplete.rawValue),
                    \(bind: new.paymentMethod), \(bind: new.paymentToken), \(bind: new.gateway), \(bind: now), 0, \(bind: now),
                    \(bind: self.periods.start(of: 1, anchor: now)), \(bind: new.creationKey), \(dialect.now), \(dialect.now))
            ON CONFLICT DO NOTHING
            """
        ).run()
        guard
            let live = try await connection.raw(
                """
                SELECT \(Subscription.columns) FROM subscriptions
                WHERE user_id = \(bind: new.userID) AND \(dialect.column("status", isIn: SubscriptionStatus.live.map(\.rawValue)))
                """
            ).first(decoding: Subscription.self)
        else {
            // The creation key is taken by a subscription no longer live: the same request, already ended.
            throw SubscriptionError.exists
        }
        guard live.creationKey == new.creationKey else { throw SubscriptionError.exists }
        return live
    }

    /// Removes a subscription whose first period was refused (nothing is kept of a declined subscription).
    static func remove(incomplete id: UUID, on connection: any SQLDatabase) async throws {
        try await connection.raw(
            "DELETE FROM subscriptions WHERE id = \(bind: id) AND status = \(literal: SubscriptionStatus.incomplete.rawValue)"
        ).run()
    }

    /// Records the gateway's subscription for one of ours: its ids, and its first period as the anchor.
    func attach(_ id: UUID, to billed: BilledSubscription, on connection: any SQLDatabase) async throws {
        try await connection.raw(
            """
            UPDATE subscriptions SET gateway_subscription_id = \(bind: billed.id), gateway_item_id = \(bind: billed.itemID),
                anchor = \(bind: billed.periodStart), current_period_start = \(bind: billed.periodStart),
                current_period_end = \(bind: billed.periodEnd), updated_at = \(self.database.dialect.now)
            WHERE id = \(bind: id) AND period_index = 0
            """
        ).run()
    }

    /// The caller's most recent subscription, whatever its status.
    func latest(of userID: UUID, on connection: (any SQLDatabase)? = nil) async throws -> Subscription? {
        try await (connection ?? self.database.sql).raw(
            """
            SELECT \(Subscription.columns) FROM subscriptions WHERE user_id = \(bind: userID)
            ORDER BY created_at DESC, id DESC \(limit: 1)
            """
        ).first(decoding: Subscription.self)
    }

    func get(_ id: UUID, on connection: any SQLDatabase) async throws -> Subscription? {
        try await connection.raw("SELECT \(Subscription.columns) FROM subscriptions WHERE id = \(bind: id)").first(decoding: Subscription.self)
    }

    /// Runs `change` on the caller's latest subscription, locked, unless it has ended.
    private func changeLatest(
        of userID: UUID, _ change: @escaping @Sendable (Subscription, any SQLDatabase) async throws -> Void
    ) async throws -> Subscription {
        try await self.database.transaction { connection in
            guard let latest = try await self.latest(of: userID, on: connection) else { throw SubscriptionError.notFound }
            guard latest.status != .canceled else { throw SubscriptionError.ended }
            let locked = try await connection.raw(
                "SELECT \(Subscription.columns) FROM subscriptions WHERE id = \(bind: latest.id)\(self.database.dialect.forUpdate)"
            ).first(decoding: Subscription.self) ?? latest
            guard locked.status != .canceled else { throw SubscriptionError.ended }
            try await change(locked, connection)
            guard let changed = try await self.get(locked.id, on: connection) else { throw UnexpectedRow("subscription vanished") }
            return changed
        }
    }

    /// `active`: ends at the period's end (repeatable); `past_due` or `incomplete`: ends now.
    func cancel(of userID: UUID) async throws -> Subscription {
        let now = self.database.dialect.now
        return try await self.changeLatest(of: userID) { subscription, connection in
            if subscription.status == .active {
                try await connection.raw(
                    "UPDATE subscriptions SET cancel_at_period_end = \(bind: true), updated_at = \(now) WHERE id = \(bind: subscription.id)"
                ).run()
            } else {
                try await connection.raw(
                    """
                    UPDATE subscriptions SET status = \(literal: SubscriptionStatus.canceled.rawValue), next_attempt_at = NULL,
                        canceled_at = \(now), updated_at = \(now)
                    WHERE id = \(bind: subscription.id)
                    """
                ).run()
            }
        }
    }

    /// Undoes a cancel at period end (also when there was none).
    func resume(of userID: UUID) async throws -> Subscription {
        let now = self.database.dialect.now
        return try await self.changeLatest(of: userID) { subscription, connection in
            try await connection.raw(
                "UPDATE subscriptions SET cancel_at_period_end = \(bind: false), updated_at = \(now) WHERE id = \(bind: subscription.id)"
            ).run()
        }
    }

    /// Sets the plan of the next renewal (the current plan clears it) and the payment method used from now on.
    func change(of userID: UUID, plan: SubscriptionPlan?, paymentMethod: String?, paymentToken: String?) async throws -> Subscription {
        let now = self.database.dialect.now
        return try await self.changeLatest(of: userID) { subscription, connection in
            if let plan {
                let pending = plan.id == subscription.planID ? nil : plan.id
                try await connection.raw(
                    "UPDATE subscriptions SET pending_plan_id = \(bind: pending), updated_at = \(now) WHERE id = \(bind: subscription.id)"
                ).run()
            }
            if let paymentToken {
                try await connection.raw(
                    """
                    UPDATE subscriptions SET payment_token = \(bind: paymentToken),
                        payment_method = \(bind: paymentMethod ?? subscription.paymentMethod), updated_at = \(now)
                    WHERE id = \(bind: subscription.id)
                    """
                ).run()
            }
        }
    }
}
