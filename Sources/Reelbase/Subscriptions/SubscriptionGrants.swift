import Foundation
import SQLKit

/// What a subscription's settled charge does to the subscription, in the transaction that settles the payment
/// (``PaymentStore``): a paid period is granted once and becomes the current one; a failed renewal is retried, then
/// ends the subscription.
struct SubscriptionGrants: Sendable {
    let dialect: SQLDialectKind
    let ledger: CreditLedger
    let plans: SubscriptionPlans
    /// `SUBSCRIPTION_GRACE_SECONDS`: a failed renewal is retried at ⅓, ⅔ and the end of it, then canceled.
    var graceSeconds = AppConfiguration().subscriptionGraceSeconds

    /// Retries after the first failed attempt of a renewal.
    static let retries = 3

    /// Grants the period `payment` paid for, unless that period was granted already (by another attempt's payment):
    /// then returns that grant's row and `granted: false`. The subscription moves to the period when it is newer than
    /// its current one, and stays `canceled` if it was canceled meanwhile (a paid period is always granted).
    func paid(_ payment: PaymentStore.Row, _ period: SubscriptionCharge, on connection: any SQLDatabase) async throws -> (entry: CreditLedger.Entry, granted: Bool) {
        guard let subscription = try await self.lock(period.subscriptionID, on: connection) else {
            throw UnexpectedRow("subscription \(period.subscriptionID.lowercased) of a paid charge is missing")
        }
        // The primary key on (subscription, period) is the once: a second payment for the period finds it taken.
        let claimed = try await connection.raw(
            """
            INSERT INTO subscription_grants (subscription_id, period_index, payment_id, created_at)
            VALUES (\(bind: period.subscriptionID), \(bind: period.periodIndex), \(bind: payment.id), \(self.dialect.now))
            ON CONFLICT DO NOTHING
            RETURNING period_index
            """
        ).first()
        guard claimed != nil else {
            guard
                let entry = try await connection.raw(
                    """
                    SELECT t.id, t.credits, t.balance_after, t.sequence FROM subscription_grants g
                    JOIN credit_transactions t ON t.id = g.transaction_id
                    WHERE g.subscription_id = \(bind: period.subscriptionID) AND g.period_index = \(bind: period.periodIndex)
                    """
                ).first(decoding: CreditLedger.Entry.self)
            else { throw UnexpectedRow("a granted subscription period without its ledger row") }
            return (entry, false)
        }
        let planName = payment.packageID == subscription.planID ? subscription.planName : (self.plans.plan(id: payment.packageID)?.name ?? payment.packageID)
        // The previous period's unused allowance expires before the new one is granted, so the ledger shows the
        // expiry row first; it is due now (its lot expired at the old period's end).
        _ = try await self.ledger.expireOverdueLots(of: payment.userID, on: connection)
        let entry = try await self.ledger.apply(
            CreditLedger.Movement(
                userID: payment.userID,
                type: .subscription,
                credits: payment.credits,
                description: "\(planName): \(payment.credits) credits for \(SubscriptionPeriods.describe(period.periodStart, period.periodEnd))",
                extraData: [
                    "subscription_id": period.subscriptionID.lowercased,
                    "period_index": String(period.periodIndex),
                    "plan_id": payment.packageID,
                    "gateway": payment.gateway,
                    "gateway_payment_id": payment.gatewayPaymentID ?? "",
                ],
                expiresAt: period.periodEnd
            ),
            on: connection
        )
        try await connection.raw(
            """
            UPDATE subscription_grants SET transaction_id = \(bind: entry.id)
            WHERE subscription_id = \(bind: period.subscriptionID) AND period_index = \(bind: period.periodIndex)
            """
        ).run()
        if period.periodIndex >= subscription.periodIndex {
            try await self.advance(subscription, to: period, plan: payment, planName: planName, on: connection)
        }
        if period.periodIndex > 0 {
            try await NotificationWriter(dialect: self.dialect).write(
                NewNotification(recipientID: payment.userID, kind: .subscriptionRenewed, credits: entry.credits, detail: planName), on: connection)
        }
        return (entry, true)
    }

    /// The subscription's current period becomes the one paid for, with the plan it was charged at; the renewal
    /// service looks at it again when that period ends.
    private func advance(
        _ subscription: Subscription, to period: SubscriptionCharge, plan payment: PaymentStore.Row, planName: String, on connection: any SQLDatabase
    ) async throws {
        let status: SubscriptionStatus = subscription.status == .canceled ? .canceled : .active
        try await connection.raw(
            """
            UPDATE subscriptions SET status = \(bind: status.rawValue), period_index = \(bind: period.periodIndex),
                current_period_start = \(bind: period.periodStart), current_period_end = \(bind: period.periodEnd),
                plan_id = \(bind: payment.packageID), plan_name = \(bind: planName), credits_per_period = \(bind: payment.credits),
                price_cents = \(bind: payment.amountCents), currency = \(bind: payment.currency),
                pending_plan_id = CASE WHEN pending_plan_id = \(bind: payment.packageID) THEN NULL ELSE pending_plan_id END,
                failed_attempts = 0,
                next_attempt_at = CASE WHEN status = 'canceled' THEN NULL ELSE \(bind: period.periodEnd) END,
                updated_at = \(self.dialect.now)
            WHERE id = \(bind: subscription.id)
            """
        ).run()
    }

    /// A charge for `period` failed. The first period's: the subscription is removed (nothing is kept of a declined
    /// subscription). A scheduled renewal attempt's: `past_due` (with a notification at the period's first failure),
    /// retried, then `canceled` after the last retry. A charge at a new payment method (attempt `-1`) changes nothing.
    func failed(_ payment: PaymentStore.Row, _ period: SubscriptionCharge, on connection: any SQLDatabase) async throws {
        guard let subscription = try await self.lock(period.subscriptionID, on: connection) else { return }
        if period.periodIndex == 0 {
            try await SubscriptionStore.remove(incomplete: subscription.id, on: connection)
            return
        }
        guard
            period.attempt >= 0, period.periodIndex == subscription.periodIndex + 1,
            [.active, .pastDue].contains(subscription.status), period.attempt == subscription.failedAttempts
        else { return }
        let failures = subscription.failedAttempts + 1
        if failures > Self.retries {
            try await connection.raw(
                """
                UPDATE subscriptions SET status = \(literal: SubscriptionStatus.canceled.rawValue), failed_attempts = \(bind: failures),
                    next_attempt_at = NULL, canceled_at = \(self.dialect.now), updated_at = \(self.dialect.now)
                WHERE id = \(bind: subscription.id)
                """
            ).run()
            return
        }
        let retryAt = subscription.currentPeriodEnd.addingTimeInterval(Double(self.graceSeconds) * Double(failures) / Double(Self.retries))
        try await connection.raw(
            """
            UPDATE subscriptions SET status = \(literal: SubscriptionStatus.pastDue.rawValue), failed_attempts = \(bind: failures),
                next_attempt_at = \(bind: retryAt), updated_at = \(self.dialect.now)
            WHERE id = \(bind: subscription.id)
            """
        ).run()
        if failures == 1 {
            try await NotificationWriter(dialect: self.dialect).write(
                NewNotification(recipientID: subscription.userID, kind: .subscriptionPaymentFailed, detail: subscription.planName), on: connection)
        }
    }

    /// The subscription, its row locked until the transaction ends (SQLite: the write lock already is).
    func lock(_ id: UUID, on connection: any SQLDatabase) async throws -> Subscription? {
        try await connection.raw("SELECT \(Subscription.columns) FROM subscriptions WHERE id = \(bind: id)\(self.dialect.forUpdate)")
            .first(decoding: Subscription.self)
    }
}
