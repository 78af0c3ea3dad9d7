import Foundation
import Logging
import SQLKit

/// What Stripe Billing's webhooks do to subscriptions, in the transaction that records the event (``StripeWebhookStore``).
///
/// State only moves forward: `canceled` is final, a paid invoice always grants its period (once, by the period's
/// key), and `customer.subscription.*` applies only when newer (`created`) than every event applied to the
/// subscription before it, whatever order Stripe delivers them in.
struct StripeSubscriptionEvents: Sendable {
    let billing: SubscriptionBilling

    private var dialect: SQLDialectKind { self.billing.database.dialect }

    /// The billing reasons whose invoice pays a period; others (`subscription_update`'s prorations, manual
    /// invoices) grant nothing.
    static let grantingReasons: Set<String> = ["subscription_create", "subscription_cycle"]

    func invoicePaid(_ invoice: StripeEvent.Invoice, created: Int, on connection: any SQLDatabase, logger: Logger) async throws {
        guard let reason = invoice.billingReason, Self.grantingReasons.contains(reason), let line = invoice.subscriptionLine else { return }
        guard var subscription = try await self.find(invoice.subscription, on: connection) else {
            logger.notice("invoice.paid for no known subscription", metadata: ["invoice_id": .string(invoice.id)])
            return
        }
        let start = Date(timeIntervalSince1970: Double(line.period.start)), end = Date(timeIntervalSince1970: Double(line.period.end))
        let index: Int
        if reason == "subscription_create" {
            index = 0
            // Before the request that created it recorded Stripe's ids (the webhook came first).
            if subscription.gatewaySubscriptionID == nil, let gatewayID = invoice.subscription.gatewayID {
                try await self.billing.store.attach(
                    subscription.id,
                    to: BilledSubscription(id: gatewayID, itemID: line.parent?.subscriptionItemDetails?.subscriptionItem ?? "", periodStart: start, periodEnd: end),
                    on: connection)
                subscription = try await self.billing.store.get(subscription.id, on: connection) ?? subscription
            }
        } else {
            index = max(1, self.billing.store.periods.index(containing: start, anchor: subscription.anchor))
        }
        let price = line.pricing?.priceDetails?.price
        let plan = price.flatMap { price in self.billing.plans.plans.first { $0.stripePriceID == price } } ?? subscription.plan
        _ = try await self.billing.invoicePaid(
            subscription, invoiceID: invoice.id, periodIndex: index, periodStart: start, periodEnd: end, plan: plan,
            amountCents: invoice.amountPaid ?? plan.priceCents, notifying: true, on: connection, logger: logger)
        try await self.touch(subscription.id, created: created, on: connection)
    }

    /// A renewal Stripe could not charge: `past_due` (an `incomplete` first invoice stays so until Stripe expires
    /// it), told once per period.
    func invoicePaymentFailed(_ invoice: StripeEvent.Invoice, created: Int, on connection: any SQLDatabase) async throws {
        guard let subscription = try await self.find(invoice.subscription, on: connection), [.active, .pastDue].contains(subscription.status)
        else { return }
        try await connection.raw(
            """
            UPDATE subscriptions SET status = \(literal: SubscriptionStatus.pastDue.rawValue), failed_attempts = failed_attempts + 1,
                updated_at = \(self.dialect.now)
            WHERE id = \(bind: subscription.id)
            """
        ).run()
        if subscription.failedAttempts == 0 {
            try await NotificationWriter(dialect: self.dialect).write(
                NewNotification(recipientID: subscription.userID, kind: .subscriptionPaymentFailed, detail: subscription.planName), on: connection)
        }
        try await self.touch(subscription.id, created: created, on: connection)
    }

    /// Stripe's statuses as API.md maps them; `nil`: one that changes nothing here (`paused`).
    static func status(_ stripeStatus: String) -> SubscriptionStatus? {
        switch stripeStatus {
        case "active", "trialing": .active
        case "past_due", "unpaid": .pastDue
        case "incomplete": .incomplete
        case "canceled", "incomplete_expired": .canceled
        default: nil
        }
    }

    func subscriptionChanged(_ object: StripeEvent.Subscription, deleted: Bool, created: Int, on connection: any SQLDatabase) async throws {
        guard let subscription = try await self.find(object.reference, on: connection), subscription.status != .canceled,
            created > subscription.lastEventAt
        else { return }
        let status = deleted ? .canceled : Self.status(object.status) ?? subscription.status
        let canceledAt: SQLQueryString = status == .canceled ? self.dialect.now : "canceled_at"
        try await connection.raw(
            """
            UPDATE subscriptions SET status = \(bind: status.rawValue),
                cancel_at_period_end = \(bind: object.cancelAtPeriodEnd ?? subscription.cancelAtPeriodEnd),
                canceled_at = \(canceledAt), last_event_at = \(bind: created), updated_at = \(self.dialect.now)
            WHERE id = \(bind: subscription.id)
            """
        ).run()
    }

    /// Every event applied to a subscription moves its clock, so that an older `customer.subscription.*` delivered
    /// after it cannot undo what it did.
    private func touch(_ id: UUID, created: Int, on connection: any SQLDatabase) async throws {
        try await connection.raw(
            "UPDATE subscriptions SET last_event_at = \(bind: created) WHERE id = \(bind: id) AND last_event_at < \(bind: created)"
        ).run()
    }

    /// The subscription an event names, locked until the transaction ends: ours by `metadata[subscription_id]` when
    /// it holds no other Stripe id, else the one holding Stripe's id.
    private func find(_ reference: StripeEvent.SubscriptionReference, on connection: any SQLDatabase) async throws -> Subscription? {
        let grants = self.billing.payments.subscriptions
        if let id = reference.subscriptionID, let subscription = try await grants.lock(id, on: connection),
            subscription.gatewaySubscriptionID == nil || subscription.gatewaySubscriptionID == reference.gatewayID
        {
            return subscription
        }
        guard let gatewayID = reference.gatewayID else { return nil }
        return try await connection.raw(
            "SELECT \(Subscription.columns) FROM subscriptions WHERE gateway_subscription_id = \(bind: gatewayID)\(self.dialect.forUpdate)"
        ).first(decoding: Subscription.self)
    }
}
