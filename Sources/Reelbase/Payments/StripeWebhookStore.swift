import Foundation
import Logging
import SQLKit

/// What verified Stripe events do to payments and wallets.
///
/// Each event runs in one transaction that first records its id: a replay finds the id taken and changes
/// nothing, and an event that fails half-way leaves no trace, so Stripe's redelivery runs it again from scratch.
/// An event that comes before what it concerns (a refund before the success) is kept, not dropped: it is applied
/// in the transaction that credits its payment.
struct StripeWebhookStore: Sendable {
    let database: Database
    let payments: PaymentStore
    let subscriptions: StripeSubscriptionEvents

    static let gateway = AppConfiguration.PaymentGatewayKind.stripe.rawValue

    /// Applies `event` (whose verified bytes are `payload`) unless its id was seen before; returns whether it was new.
    @discardableResult
    func apply(_ event: StripeEvent, payload: Data, logger: Logger) async throws -> Bool {
        try await self.database.transaction { connection in
            let reference = event.action.payment
            let recorded = try await connection.raw(
                """
                INSERT INTO webhook_events (id, type, intent_id, received_at)
                VALUES (\(bind: event.id), \(bind: event.type), \(bind: reference?.intentID), \(self.database.dialect.now))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """
            ).first()
            guard recorded != nil else { return false }
            switch event.action {
            case .invoicePaid(let invoice):
                try await self.subscriptions.invoicePaid(invoice, created: event.created, on: connection, logger: logger)
                return true
            case .invoicePaymentPaid(let paid):
                if let intentID = paid.payment.paymentIntent {
                    try await self.payments.linkInvoice(paid.invoice, toIntent: intentID, on: connection, logger: logger)
                }
                return true
            case .invoicePaymentFailed(let invoice):
                try await self.subscriptions.invoicePaymentFailed(invoice, created: event.created, on: connection)
                return true
            case .subscriptionChanged(let subscription, let deleted):
                try await self.subscriptions.subscriptionChanged(subscription, deleted: deleted, created: event.created, on: connection)
                return true
            default:
                break
            }
            guard let reference else { return true }
            let payment = try await self.payments.find(reference, gateway: Self.gateway, on: connection)
            if let payment { try await self.payments.link(eventID: event.id, to: payment.id, on: connection) }
            switch event.action {
            case .paymentSucceeded:
                if let payment { _ = try await self.payments.credit(payment.id, gatewayPaymentID: reference.intentID, on: connection, logger: logger) }
            case .paymentFailed:
                if let payment { try await self.payments.fail(payment.id, gatewayPaymentID: reference.intentID, on: connection) }
            case .chargeRefunded(let charge):
                if let payment, try await self.payments.refund(charge, of: payment, on: connection, logger: logger) { break }
                // Not credited yet, or about no payment known yet: kept for the transaction that credits it.
                try await self.payments.keepWaiting(
                    eventID: event.id, payload: String(decoding: payload, as: UTF8.self), paymentID: payment?.id, on: connection)
            case .ignored, .invoicePaid, .invoicePaymentPaid, .invoicePaymentFailed, .subscriptionChanged:
                break
            }
            return true
        }
    }
}

extension StripeEvent.Action {
    /// The payment the event concerns, for the types acted on.
    var payment: StripeEvent.PaymentReference? {
        switch self {
        case .paymentSucceeded(let reference), .paymentFailed(let reference): reference
        case .chargeRefunded(let charge): charge.payment
        case .ignored, .invoicePaid, .invoicePaymentPaid, .invoicePaymentFailed, .subscriptionChanged: nil
        }
    }
}
