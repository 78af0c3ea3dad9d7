import Foundation
import Logging
import SQLKit

/// A checked request to buy a package.
struct Purchase: Sendable {
    var userID: UUID
    var package: CreditPackage
    var paymentMethod: String
    var paymentToken: String
}

/// A charge the gateway answered, not yet settled.
struct Charge: Sendable {
    var request: ChargeRequest
    var outcome: ChargeOutcome
}

/// What a purchase came to, once recorded.
enum PurchaseOutcome: Sendable {
    /// Paid and credited; `entry` is its ledger row.
    case credited(CreditPackage, entry: CreditLedger.Entry)
    /// The customer must still act (3-D Secure) or the bank is processing; a webhook or the reconciler settles it.
    case pending(paymentID: String, clientSecret: String)
    /// The gateway declined; `message` is its own, shown to the user.
    case declined(message: String)
}

/// Buying a credit package: record the payment, charge the gateway, then settle the payment in the caller's
/// transaction.
///
/// The payment is recorded `pending` first, in a transaction of its own, so that whatever happens after the charge
/// (a time-out, a crash, a failed commit) leaves a row for the reconciler. The charge happens outside any
/// transaction (it is a network call). The gateway's idempotency key, derived from the client's, keeps a retried
/// request from charging twice, and the payment's conditional settlement keeps it from being credited twice.
struct CreditPurchases: Sendable {
    let payments: PaymentStore
    let gateway: any PaymentGateway

    /// The idempotency key sent to the gateway for a purchase made with the client's `Idempotency-Key`: the same
    /// request under the same key gives the same gateway key, and any key gives 82 characters, within Stripe's 255.
    static func gatewayKey(for purchase: Purchase, clientKey: String) -> String {
        let digest = RequestFingerprint(
            IdempotencyScope.purchase.rawValue, purchase.userID.lowercased, clientKey, purchase.package.id, purchase.paymentMethod,
            purchase.paymentToken)
        return "reelbase_purchase_" + digest.hex
    }

    static let expiredMessage = "This purchase did not complete within 24 hours; start a new one with a new Idempotency-Key."

    /// Records the payment, then takes the money. Throws ``PaymentGatewayError`` when the gateway could not be asked
    /// or refused the request; the payment stays `pending` for the reconciler unless the gateway said no for sure.
    func charge(_ purchase: Purchase, idempotencyKey: String?) async throws -> Charge {
        let newID = UUID()
        var request = ChargeRequest(
            paymentID: newID,
            userID: purchase.userID,
            package: purchase.package,
            paymentMethod: purchase.paymentMethod,
            paymentToken: purchase.paymentToken,
            idempotencyKey: idempotencyKey.map { Self.gatewayKey(for: purchase, clientKey: $0) } ?? "reelbase_payment_\(newID.lowercased)"
        )
        let payment = try await self.payments.recordPending(request, gateway: self.gateway.name)
        request.paymentID = payment.id
        if payment.status == .succeeded, let gatewayPaymentID = payment.gatewayPaymentID {
            // A retry of a purchase the reconciler or a webhook credited meanwhile: nothing to ask the gateway.
            return Charge(request: request, outcome: .succeeded(paymentID: gatewayPaymentID))
        }
        if Date().timeIntervalSince(payment.createdAt) >= PaymentReconciler.giveUpAfter {
            // A retry of a purchase left unsettled for a day: Stripe has forgotten the key, so the same create could
            // charge a second time. It ends failed (the reconciler would fail it too); a webhook still credits it.
            return Charge(request: request, outcome: .declined(paymentID: payment.gatewayPaymentID, message: Self.expiredMessage))
        }
        do {
            return Charge(request: request, outcome: try await self.gateway.charge(request))
        } catch PaymentGatewayError.invalidPaymentToken {
            // The gateway refused the token itself: nothing was charged. Should this write fail, the reconciler
            // sends the charge again, gets the same refusal, and fails the payment then.
            try? await self.payments.fail(payment.id, gatewayPaymentID: nil)
            throw PaymentGatewayError.invalidPaymentToken
        } catch let error as PaymentGatewayError {
            throw error
        } catch {
            throw PaymentGatewayError.unavailable
        }
    }

    /// Settles the payment as the gateway answered: credited (now, or already by a webhook or the reconciler),
    /// pending, or failed.
    func record(_ charge: Charge, on connection: any SQLDatabase, logger: Logger) async throws -> PurchaseOutcome {
        let entry = try await self.payments.settle(charge.request.paymentID, as: charge.outcome, notifying: false, on: connection, logger: logger)
        switch charge.outcome {
        case .declined(_, let message):
            return .declined(message: message)
        case .pending(let paymentID, let clientSecret):
            return .pending(paymentID: paymentID, clientSecret: clientSecret)
        case .succeeded:
            guard let entry else { throw UnexpectedRow("a succeeded payment without its ledger row") }
            return .credited(charge.request.package, entry: entry)
        }
    }
}
