import Foundation
import Logging
import ServiceLifecycle

/// One attempt to take money for a package.
struct ChargeRequest: Sendable {
    /// The `payments` row recorded before the charge; sent as `metadata[payment_id]`.
    var paymentID: UUID
    var userID: UUID
    var package: CreditPackage
    var paymentMethod: String
    var paymentToken: String
    /// Sent to the gateway so that a retried purchase never charges twice.
    var idempotencyKey: String
    /// Set when this charge pays a subscription's period rather than a package.
    var subscription: SubscriptionCharge? = nil
}

/// What a subscription's charge pays for: one period, at one attempt (0 for the first try; a charge at a new
/// payment method counts as its own).
struct SubscriptionCharge: Sendable, Equatable {
    var subscriptionID: UUID
    var periodIndex: Int
    var periodStart: Date
    var periodEnd: Date
    var attempt: Int
}

/// What the gateway made of a charge.
enum ChargeOutcome: Sendable, Equatable {
    case succeeded(paymentID: String)
    /// The card was declined; `message` is the gateway's, shown to the user.
    case declined(paymentID: String?, message: String)
    /// The customer must act (3-D Secure) or the bank is still processing; a webhook settles it later.
    case pending(paymentID: String, clientSecret: String)
}

/// The states of a `payments` row: `pending` until the gateway's outcome is known, then `succeeded` or `failed`.
enum PaymentStatus: String, Sendable, Codable {
    case pending, succeeded, failed
}

/// A payment recorded before its charge, as the reconciler reads it back to settle it from the gateway's record.
struct RecordedPayment: Sendable {
    var id: UUID
    var createdAt: Date
    /// The gateway's id for it (a PaymentIntent's `pi_…`), once the gateway answered.
    var gatewayPaymentID: String?
    /// The charge as first sent, to be sent again identically; `nil` for payments recorded before this was kept.
    var charge: ChargeRequest?
}

/// Why a charge could not be made; nothing was credited.
enum PaymentGatewayError: Error, Sendable {
    /// The gateway could not be reached or kept failing: whether it charged is unknown until the reconciler asks
    /// again. A retry with the same key cannot charge twice.
    case unavailable
    /// The gateway refused the request for a reason the customer cannot fix (logged, not shown).
    case refused
    /// The gateway does not accept this payment token.
    case invalidPaymentToken
}

/// The outside world that takes money. `mock` for development, `stripe` in production.
protocol PaymentGateway: Sendable {
    /// The name recorded with each payment (`mock`, `stripe`).
    var name: String { get }
    /// A problem with the token's form, found before anything is recorded or charged.
    func validate(paymentToken: String) -> FieldError?
    /// Takes the money. Throws ``PaymentGatewayError`` when the gateway could not be asked or refused the request:
    /// nothing was charged that a retry with the same idempotency key would charge again.
    func charge(_ request: ChargeRequest) async throws -> ChargeOutcome
    /// What the gateway's own record says of a payment whose outcome this server did not learn: the payment it
    /// knows by id, or else the answer to the identical charge sent again with the same idempotency key. Throws
    /// ``PaymentGatewayError`` when it cannot tell.
    func lookUp(_ payment: RecordedPayment) async throws -> ChargeOutcome
}

/// The development gateway: `tok_fail…`/`pm_fail…` are declined, other `tok_…`/`pm_…` succeed. Two cards fail
/// later (the longest matching prefix wins): `tok_fail_renewal_once` pays everything but a subscription's first
/// renewal attempt, `tok_fail_renewal` everything but its renewals.
struct MockPaymentGateway: PaymentGateway {
    var name: String { AppConfiguration.PaymentGatewayKind.mock.rawValue }

    func validate(paymentToken: String) -> FieldError? {
        guard paymentToken.hasPrefix("tok_") || paymentToken.hasPrefix("pm_") else {
            return FieldError(field: "payment_token", message: "Must be a card token (tok_…) or a PaymentMethod id (pm_…).")
        }
        return nil
    }

    func charge(_ request: ChargeRequest) async throws -> ChargeOutcome {
        // The payment id is derived from the idempotency key, as a real gateway would return the same payment
        // for a retried key; the ledger's unique payment id then refuses to credit it twice.
        let paymentID = "mock_" + sha256Hex(request.idempotencyKey).prefix(24)
        return Self.declines(request) ? .declined(paymentID: paymentID, message: "Your card was declined.") : .succeeded(paymentID: paymentID)
    }

    private static func declines(_ request: ChargeRequest) -> Bool {
        let token = request.paymentToken
        let renewal = request.subscription.map { $0.periodIndex > 0 } ?? false
        if token.hasPrefix("tok_fail_renewal_once") {
            return renewal && request.subscription?.periodIndex == 1 && request.subscription?.attempt == 0
        }
        if token.hasPrefix("tok_fail_renewal") { return renewal }
        return token.hasPrefix("tok_fail") || token.hasPrefix("pm_fail")
    }

    /// A stuck mock payment settles by its token's rule, as its charge would have.
    func lookUp(_ payment: RecordedPayment) async throws -> ChargeOutcome {
        guard let charge = payment.charge else { throw PaymentGatewayError.refused }
        return try await self.charge(charge)
    }
}

/// The gateway `PAYMENT_GATEWAY` names, with the services that must run beside it (and shut down after the server).
func makePaymentGateway(_ configuration: AppConfiguration, logger: Logger) throws -> (any PaymentGateway, [any Service]) {
    switch configuration.paymentGateway {
    case .mock:
        return (MockPaymentGateway(), [])
    case .stripe:
        guard let secretKey = configuration.stripeSecretKey else {
            throw ConfigurationError("PAYMENT_GATEWAY=stripe requires STRIPE_SECRET_KEY")
        }
        guard let base = URL(string: configuration.stripeAPIBase), ["https", "http"].contains(base.scheme), base.host != nil else {
            throw ConfigurationError("STRIPE_API_BASE must be an http(s) URL, got '\(configuration.stripeAPIBase)'")
        }
        var apiBase = configuration.stripeAPIBase
        while apiBase.hasSuffix("/") { apiBase.removeLast() }
        let client = StripeGateway.makeHTTPClient()
        let gateway = StripeGateway(client: client, secretKey: secretKey, apiBase: apiBase, logger: logger)
        return (gateway, [HTTPClientService(client: client)])
    }
}
