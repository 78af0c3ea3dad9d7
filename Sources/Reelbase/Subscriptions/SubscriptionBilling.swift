import Foundation
import Logging
import SQLKit

/// Charging subscriptions: the first period when one is created, a past-due period at a new payment method, and
/// renewals. Every charge is a `payments` row recorded before the gateway is called, with a gateway key derived from
/// the subscription, period and attempt, and is settled by ``PaymentStore`` like a purchase, whose settling hands
/// subscription charges to ``SubscriptionGrants``.
struct SubscriptionBilling: Sendable {
    let store: SubscriptionStore
    let payments: PaymentStore
    let gateway: any PaymentGateway
    let plans: SubscriptionPlans

    var database: Database { self.store.database }

    /// The renewal service runs only for the gateway whose renewals this server charges itself.
    var chargesRenewals: Bool { self.gateway is MockPaymentGateway }

    /// A first period charged, not yet settled.
    struct Start: Sendable {
        var subscriptionID: UUID
        var paymentID: UUID
        var outcome: ChargeOutcome
    }

    /// What a subscription's creation came to, once settled.
    enum Started: Sendable {
        case active(Subscription, entry: CreditLedger.Entry)
        case pending(Subscription, paymentID: String, clientSecret: String)
        case declined(message: String)
    }

    /// Claims the live slot with the first charge recorded beside it, then takes the money (outside any transaction).
    func start(_ new: SubscriptionStore.NewSubscription) async throws -> Start {
        guard self.chargesRenewals else { throw SubscriptionError.unsupportedGateway(self.gateway.name) }
        let (subscription, payment) = try await self.database.transaction { connection in
            let subscription = try await self.store.claimLive(new, on: connection)
            let request = self.chargeRequest(
                for: subscription, plan: subscription.plan, periodIndex: 0, attempt: 0, key: "reelbase_subscription_\(new.creationKey)")
            return (subscription, try await self.payments.recordPending(request, gateway: self.gateway.name, on: connection))
        }
        return Start(subscriptionID: subscription.id, paymentID: payment.id, outcome: try await self.send(payment))
    }

    /// Settles the first charge in the caller's transaction.
    func record(_ start: Start, on connection: any SQLDatabase, logger: Logger) async throws -> Started {
        let entry = try await self.payments.settle(start.paymentID, as: start.outcome, notifying: false, on: connection, logger: logger)
        switch start.outcome {
        case .declined(_, let message):
            return .declined(message: message)
        case .pending(let paymentID, let clientSecret):
            guard let subscription = try await self.store.get(start.subscriptionID, on: connection) else { throw UnexpectedRow("subscription vanished") }
            return .pending(subscription, paymentID: paymentID, clientSecret: clientSecret)
        case .succeeded:
            guard let entry, let subscription = try await self.store.get(start.subscriptionID, on: connection) else {
                throw UnexpectedRow("a paid subscription without its grant")
            }
            return .active(subscription, entry: entry)
        }
    }

    /// A new payment method on a `past_due` subscription is charged at once for the period being retried: `active`
    /// with that period's grant, or ``SubscriptionError/declined(message:)`` and still `past_due`.
    func chargePastDue(_ subscription: Subscription, logger: Logger) async throws -> Subscription {
        guard subscription.status == .pastDue, let token = subscription.paymentToken else { return subscription }
        let plan = self.renewalPlan(of: subscription)
        // One charge per period and payment method: the same change sent again is the same charge.
        let key = "reelbase_subscription_\(subscription.id.lowercased)_\(subscription.periodIndex + 1)_method_\(sha256Hex(token).prefix(24))"
        let request = self.chargeRequest(for: subscription, plan: plan, periodIndex: subscription.periodIndex + 1, attempt: -1, key: key)
        let payment = try await self.payments.recordPending(request, gateway: self.gateway.name)
        let outcome = try await self.send(payment)
        _ = try await self.database.transaction { connection in
            try await self.payments.settle(payment.id, as: outcome, on: connection, logger: logger)
        }
        if case .declined(_, let message) = outcome { throw SubscriptionError.declined(message: message) }
        guard let changed = try await self.store.get(subscription.id, on: self.database.sql) else { throw UnexpectedRow("subscription vanished") }
        return changed
    }

    // MARK: Renewals

    /// Claims up to `limit` subscriptions due at `now`, moving each one's next look `lease` ahead so that no other
    /// instance takes it meanwhile: PostgreSQL skips rows another claim holds, SQLite runs one write at a time.
    func claimDue(now: Date, limit: Int, lease: TimeInterval) async throws -> [Subscription] {
        try await self.database.transaction { connection in
            let due = try await connection.raw(
                """
                SELECT \(Subscription.columns) FROM subscriptions
                WHERE status IN ('active', 'past_due') AND next_attempt_at <= \(bind: now)
                ORDER BY next_attempt_at \(limit: limit)\(self.database.dialect.forUpdateSkipLocked)
                """
            ).all(decoding: Subscription.self)
            for subscription in due {
                try await connection.raw(
                    "UPDATE subscriptions SET next_attempt_at = \(bind: now.addingTimeInterval(lease)) WHERE id = \(bind: subscription.id)"
                ).run()
            }
            return due
        }
    }

    /// What a due subscription needs: ended uncharged (canceling, or its owner suspended), or this charge.
    private enum Renewal {
        case end
        case charge(ChargeRequest)
        case nothing
    }

    /// Renews one claimed subscription: ends it, or records and sends the attempt's charge and settles it. A
    /// gateway that cannot be reached leaves the charge pending; the next look (after the lease) sends it again
    /// with the same key, so it is charged at most once.
    func renew(_ claimed: Subscription, now: Date, logger: Logger) async throws {
        let renewal: Renewal = try await self.database.transaction { connection in
            guard let subscription = try await self.payments.subscriptions.lock(claimed.id, on: connection) else { return .nothing }
            let suspended = try await connection.raw("SELECT suspended_at FROM users WHERE id = \(bind: subscription.userID)")
                .first()?.decodeNil(column: "suspended_at") == false
            switch subscription.status {
            case .active where now >= subscription.currentPeriodEnd:
                if subscription.cancelAtPeriodEnd || suspended { return .end }
                // After downtime, the period that contains now; the ones nobody renewed are neither charged nor granted.
                let index = max(subscription.periodIndex + 1, self.store.periods.index(containing: now, anchor: subscription.anchor))
                return .charge(try await self.record(subscription, periodIndex: index, attempt: 0, on: connection))
            case .pastDue:
                if suspended { return .end }
                return .charge(try await self.record(subscription, periodIndex: subscription.periodIndex + 1, attempt: subscription.failedAttempts, on: connection))
            default:
                return .nothing
            }
        }
        switch renewal {
        case .nothing:
            return
        case .end:
            try await self.database.transaction { connection in
                try await connection.raw(
                    """
                    UPDATE subscriptions SET status = \(literal: SubscriptionStatus.canceled.rawValue), next_attempt_at = NULL,
                        canceled_at = \(self.database.dialect.now), updated_at = \(self.database.dialect.now)
                    WHERE id = \(bind: claimed.id) AND status IN ('active', 'past_due')
                    """
                ).run()
            }
            logger.info("subscription ended at its period's end", metadata: ["subscription_id": .string(claimed.id.lowercased)])
        case .charge(let request):
            guard let payment = try await self.payments.database.sql.raw(
                "SELECT \(PaymentStore.Row.columns) FROM payments WHERE id = \(bind: request.paymentID)"
            ).first(decoding: PaymentStore.Row.self), payment.status == .pending else { return }
            let outcome = try await self.send(payment)
            _ = try await self.database.transaction { connection in
                try await self.payments.settle(payment.id, as: outcome, on: connection, logger: logger)
            }
        }
    }

    /// Records the attempt's charge (or finds the one an earlier look recorded under the same key).
    private func record(_ subscription: Subscription, periodIndex: Int, attempt: Int, on connection: any SQLDatabase) async throws -> ChargeRequest {
        let key = "reelbase_subscription_\(subscription.id.lowercased)_\(periodIndex)_\(attempt)"
        var request = self.chargeRequest(for: subscription, plan: self.renewalPlan(of: subscription), periodIndex: periodIndex, attempt: attempt, key: key)
        request.paymentID = try await self.payments.recordPending(request, gateway: self.gateway.name, on: connection).id
        return request
    }

    /// The plan the next period is charged at: the pending one while it is still on sale, else the current one as bought.
    private func renewalPlan(of subscription: Subscription) -> SubscriptionPlan {
        subscription.pendingPlanID.flatMap(self.plans.plan(id:)) ?? subscription.plan
    }

    private func chargeRequest(for subscription: Subscription, plan: SubscriptionPlan, periodIndex: Int, attempt: Int, key: String) -> ChargeRequest {
        let periods = self.store.periods
        return ChargeRequest(
            paymentID: UUID(),
            userID: subscription.userID,
            package: CreditPackage(id: plan.id, credits: plan.creditsPerPeriod, priceCents: plan.priceCents, name: plan.name, currency: plan.currency),
            paymentMethod: subscription.paymentMethod,
            paymentToken: subscription.paymentToken ?? "",
            idempotencyKey: key,
            subscription: SubscriptionCharge(
                subscriptionID: subscription.id, periodIndex: periodIndex,
                periodStart: periods.start(of: periodIndex, anchor: subscription.anchor),
                periodEnd: periods.start(of: periodIndex + 1, anchor: subscription.anchor), attempt: attempt)
        )
    }

    /// Sends a recorded charge as first recorded (a retry sends the identical request under the same key); one
    /// settled meanwhile (by the reconciler) is not sent again.
    private func send(_ payment: PaymentStore.Row) async throws -> ChargeOutcome {
        switch payment.status {
        case .succeeded: return .succeeded(paymentID: payment.gatewayPaymentID ?? "")
        case .failed: return .declined(paymentID: payment.gatewayPaymentID, message: "Your card was declined.")
        case .pending: break
        }
        guard let request = payment.recorded(catalog: self.payments.catalog).charge else {
            throw UnexpectedRow("subscription charge \(payment.id.lowercased) has no token to send")
        }
        do {
            return try await self.gateway.charge(request)
        } catch let error as PaymentGatewayError {
            throw error
        } catch {
            throw PaymentGatewayError.unavailable
        }
    }
}
