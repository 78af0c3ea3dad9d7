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
    var chargesRenewals: Bool { self.billingGateway == nil }

    /// The gateway that bills subscriptions itself (Stripe Billing), if it is one.
    var billingGateway: (any BillingGateway)? { self.gateway as? any BillingGateway }

    /// A first period charged (mock) or a subscription created at the gateway (Stripe), not yet settled.
    struct Start: Sendable {
        enum Step: Sendable {
            case charged(paymentID: UUID, outcome: ChargeOutcome)
            case billed(BilledSubscriptionOutcome)
        }
        var subscriptionID: UUID
        var step: Step
    }

    /// What a subscription's creation came to, once settled.
    enum Started: Sendable {
        case active(Subscription, entry: CreditLedger.Entry)
        case pending(Subscription, paymentID: String, clientSecret: String)
        case declined(message: String)
    }

    /// Claims the live slot (with the first charge recorded beside it, for the mock gateway), then takes the money
    /// or creates the gateway's subscription, outside any transaction.
    func start(_ new: SubscriptionStore.NewSubscription) async throws -> Start {
        if let billing = self.billingGateway {
            let subscription = try await self.database.transaction { connection in try await self.store.claimLive(new, on: connection) }
            let outcome: BilledSubscriptionOutcome
            do {
                let customer = try await self.customer(of: new.userID, at: billing)
                outcome = try await billing.createSubscription(
                    BilledSubscriptionRequest(
                        subscriptionID: subscription.id, userID: new.userID, customerID: customer, plan: new.plan,
                        paymentMethod: new.paymentToken, idempotencyKey: "reelbase_subscription_\(new.creationKey)"))
            } catch PaymentGatewayError.unavailable {
                // Whether Stripe created it is unknown: the slot stays, and the same request retried with its key
                // sends the identical create, which Stripe answers as the first.
                throw PaymentGatewayError.unavailable
            } catch {
                try await self.database.transaction { connection in try await SubscriptionStore.remove(incomplete: subscription.id, on: connection) }
                throw error
            }
            return Start(subscriptionID: subscription.id, step: .billed(outcome))
        }
        let (subscription, payment) = try await self.database.transaction { connection in
            let subscription = try await self.store.claimLive(new, on: connection)
            let request = self.chargeRequest(
                for: subscription, plan: subscription.plan, periodIndex: 0, attempt: 0, key: "reelbase_subscription_\(new.creationKey)")
            return (subscription, try await self.payments.recordPending(request, gateway: self.gateway.name, on: connection))
        }
        return Start(subscriptionID: subscription.id, step: .charged(paymentID: payment.id, outcome: try await self.send(payment)))
    }

    /// Settles the first period in the caller's transaction.
    func record(_ start: Start, on connection: any SQLDatabase, logger: Logger) async throws -> Started {
        switch start.step {
        case .charged(let paymentID, let outcome):
            let entry = try await self.payments.settle(paymentID, as: outcome, notifying: false, on: connection, logger: logger)
            switch outcome {
            case .declined(_, let message):
                return .declined(message: message)
            case .pending(let intentID, let clientSecret):
                return .pending(try await self.subscription(start.subscriptionID, on: connection), paymentID: intentID, clientSecret: clientSecret)
            case .succeeded:
                guard let entry else { throw UnexpectedRow("a paid subscription without its grant") }
                return .active(try await self.subscription(start.subscriptionID, on: connection), entry: entry)
            }
        case .billed(.declined(let message)):
            try await SubscriptionStore.remove(incomplete: start.subscriptionID, on: connection)
            return .declined(message: message)
        case .billed(.pending(let billed, let intentID, let clientSecret)):
            try await self.store.attach(start.subscriptionID, to: billed, on: connection)
            return .pending(try await self.subscription(start.subscriptionID, on: connection), paymentID: intentID, clientSecret: clientSecret)
        case .billed(.active(let billed, let invoiceID)):
            try await self.store.attach(start.subscriptionID, to: billed, on: connection)
            let subscription = try await self.subscription(start.subscriptionID, on: connection)
            let entry = try await self.invoicePaid(
                subscription, invoiceID: invoiceID, periodIndex: 0, periodStart: billed.periodStart, periodEnd: billed.periodEnd,
                plan: subscription.plan, amountCents: subscription.priceCents, notifying: false, on: connection, logger: logger)
            return .active(try await self.subscription(start.subscriptionID, on: connection), entry: entry)
        }
    }

    /// Credits a paid invoice of the gateway's subscription: its period, once, whoever learns of it first (the
    /// request that created the subscription, or `invoice.paid`). The invoice is a `payments` row keyed by its id.
    func invoicePaid(
        _ subscription: Subscription, invoiceID: String, periodIndex: Int, periodStart: Date, periodEnd: Date, plan: SubscriptionPlan,
        amountCents: Int, notifying: Bool, on connection: any SQLDatabase, logger: Logger
    ) async throws -> CreditLedger.Entry {
        let request = ChargeRequest(
            paymentID: UUID(), userID: subscription.userID,
            package: CreditPackage(id: plan.id, credits: plan.creditsPerPeriod, priceCents: amountCents, name: plan.name, currency: plan.currency),
            paymentMethod: subscription.paymentMethod, paymentToken: "", idempotencyKey: "stripe_invoice_\(invoiceID)",
            subscription: SubscriptionCharge(
                subscriptionID: subscription.id, periodIndex: periodIndex, periodStart: periodStart, periodEnd: periodEnd, attempt: 0))
        let payment = try await self.payments.recordPending(request, gateway: self.gateway.name, on: connection)
        guard let entry = try await self.payments.credit(payment.id, gatewayPaymentID: invoiceID, notifying: notifying, on: connection, logger: logger)
        else { throw UnexpectedRow("invoice payment \(invoiceID) vanished while being credited") }
        return entry
    }

    /// The user's Stripe Customer, created on first use (Stripe's idempotency key is the user's, so two first
    /// subscriptions make one customer).
    private func customer(of userID: UUID, at billing: any BillingGateway) async throws -> String {
        struct Row: Decodable {
            var email: String
            var stripeCustomerID: String?
            enum CodingKeys: String, CodingKey {
                case email
                case stripeCustomerID = "stripe_customer_id"
            }
        }
        guard let user = try await self.database.sql.raw("SELECT email, stripe_customer_id FROM users WHERE id = \(bind: userID)").first(decoding: Row.self)
        else { throw LedgerError.unknownUser }
        if let known = user.stripeCustomerID { return known }
        let created = try await billing.createCustomer(userID: userID, email: user.email)
        try await self.database.transaction { connection in
            try await connection.raw(
                "UPDATE users SET stripe_customer_id = COALESCE(stripe_customer_id, \(bind: created)) WHERE id = \(bind: userID)"
            ).run()
        }
        return created
    }

    private func subscription(_ id: UUID, on connection: any SQLDatabase) async throws -> Subscription {
        guard let subscription = try await self.store.get(id, on: connection) else { throw UnexpectedRow("subscription \(id.lowercased) vanished") }
        return subscription
    }

    // MARK: Changes

    /// Cancels at the period's end (`active`) or now (`past_due`, `incomplete`); at the gateway first when it bills
    /// the subscription, so that a refusal there changes nothing here.
    func cancel(of userID: UUID) async throws -> Subscription {
        if let (billing, current, billed) = try await self.billed(of: userID) {
            if current.status == .active {
                try await billing.update(billed, .cancelAtPeriodEnd(true))
            } else {
                try await billing.cancelNow(billed)
            }
        }
        return try await self.store.cancel(of: userID)
    }

    func resume(of userID: UUID) async throws -> Subscription {
        if let (billing, _, billed) = try await self.billed(of: userID) {
            try await billing.update(billed, .cancelAtPeriodEnd(false))
        }
        return try await self.store.resume(of: userID)
    }

    /// A plan change from the next renewal and a payment method from now on (with the mock gateway, a past-due
    /// subscription's is charged at once).
    func change(of userID: UUID, plan: SubscriptionPlan?, paymentMethod: String?, paymentToken: String?, logger: Logger) async throws -> Subscription {
        if let (billing, current, billed) = try await self.billed(of: userID) {
            if let plan {
                // Back to the current plan: its own Price, as bought.
                guard let price = (plan.id == current.planID ? self.plans.plan(id: current.planID) ?? plan : plan).stripePriceID else {
                    throw PaymentGatewayError.refused
                }
                try await billing.update(billed, .price(price))
            }
            if let paymentToken { try await billing.update(billed, .defaultPaymentMethod(paymentToken)) }
        }
        let changed = try await self.store.change(of: userID, plan: plan, paymentMethod: paymentMethod, paymentToken: paymentToken)
        guard paymentToken != nil, changed.status == .pastDue, self.chargesRenewals else { return changed }
        return try await self.chargePastDue(changed, logger: logger)
    }

    /// The caller's live subscription at the gateway that bills it, if there is one.
    private func billed(of userID: UUID) async throws -> (any BillingGateway, Subscription, BilledSubscriptionReference)? {
        guard let billing = self.billingGateway, let current = try await self.store.latest(of: userID), current.status != .canceled,
            let billed = current.billed
        else { return nil }
        return (billing, current, billed)
    }

    /// A new payment method on a `past_due` subscription is charged at once for the period being retried: `active`
    /// with that period's grant, or ``SubscriptionError/declined(message:)`` and still `past_due`.
    private func chargePastDue(_ subscription: Subscription, logger: Logger) async throws -> Subscription {
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
