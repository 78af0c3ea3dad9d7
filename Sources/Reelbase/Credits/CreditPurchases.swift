import Foundation
import SQLKit

/// A checked request to buy a package.
struct Purchase: Sendable {
    var userID: UUID
    var package: CreditPackage
    var paymentMethod: String
    var paymentToken: String
}

/// A charge the gateway answered, not yet recorded.
struct Charge: Sendable {
    var request: ChargeRequest
    var outcome: ChargeOutcome
}

/// What a purchase came to, once recorded.
enum PurchaseOutcome: Sendable {
    /// Paid and credited; `entry` is its ledger row.
    case credited(CreditPackage, entry: CreditLedger.Entry)
    /// The customer must still act (3-D Secure) or the bank is processing; a webhook settles it later.
    case pending(paymentID: String, clientSecret: String)
    /// The gateway declined; `message` is its own, shown to the user.
    case declined(message: String)
}

/// Buying a credit package: charge the gateway, then credit the wallet in the caller's transaction.
///
/// The charge happens outside any transaction (it is a network call). The gateway's idempotency key, derived
/// from the client's, keeps a retried request from charging twice, and the gateway's payment id (unique in
/// `payments`) keeps one payment from being credited twice.
struct CreditPurchases: Sendable {
    let database: Database
    let ledger: CreditLedger
    let gateway: any PaymentGateway

    /// Takes the money. Throws ``PaymentGatewayError`` when the gateway could not be asked or refused the request.
    func charge(_ purchase: Purchase, idempotencyKey: String?) async throws -> Charge {
        let request = ChargeRequest(
            userID: purchase.userID,
            package: purchase.package,
            paymentMethod: purchase.paymentMethod,
            paymentToken: purchase.paymentToken,
            idempotencyKey: idempotencyKey.map { "purchase-\(purchase.userID.lowercased)-\($0)" } ?? "purchase-\(UUID().lowercased)"
        )
        do {
            return Charge(request: request, outcome: try await self.gateway.charge(request))
        } catch let error as PaymentGatewayError {
            throw error
        } catch {
            throw PaymentGatewayError.unavailable
        }
    }

    /// Writes what the gateway said: a credited payment, or a pending one; a decline writes nothing.
    func record(_ charge: Charge, on connection: any SQLDatabase) async throws -> PurchaseOutcome {
        let package = charge.request.package
        switch charge.outcome {
        case .declined(_, let message):
            return .declined(message: message)

        case .pending(let paymentID, let clientSecret):
            try await self.insertPayment(charge.request, paymentID: paymentID, status: .pending, creditedTransactionID: nil, on: connection)
            return .pending(paymentID: paymentID, clientSecret: clientSecret)

        case .succeeded(let paymentID):
            if let earlier = try await self.creditedEntry(paymentID: paymentID, on: connection) {
                // Already credited (a retry that took over a key whose first owner died after committing).
                return .credited(package, entry: earlier)
            }
            let entry = try await self.ledger.apply(
                CreditLedger.Movement(
                    userID: charge.request.userID,
                    type: .purchase,
                    credits: package.credits,
                    description: "Purchased \(package.name) (\(package.credits) credits)",
                    extraData: [
                        "package_id": package.id,
                        "payment_method": charge.request.paymentMethod,
                        "gateway": self.gateway.name,
                        "gateway_payment_id": paymentID,
                    ]
                ),
                on: connection
            )
            try await self.insertPayment(charge.request, paymentID: paymentID, status: .succeeded, creditedTransactionID: entry.id, on: connection)
            return .credited(package, entry: entry)
        }
    }

    private func creditedEntry(paymentID: String, on connection: any SQLDatabase) async throws -> CreditLedger.Entry? {
        try await connection.raw(
            """
            SELECT t.id, t.credits, t.balance_after, t.sequence FROM payments p
            JOIN credit_transactions t ON t.id = p.credited_transaction_id
            WHERE p.gateway = \(bind: self.gateway.name) AND p.gateway_payment_id = \(bind: paymentID)
            """
        ).first(decoding: CreditLedger.Entry.self)
    }

    private func insertPayment(
        _ charge: ChargeRequest, paymentID: String, status: PaymentStatus, creditedTransactionID: UUID?, on connection: any SQLDatabase
    ) async throws {
        let now = self.database.dialect.now
        try await connection.raw(
            """
            INSERT INTO payments (id, user_id, package_id, credits, amount_cents, currency, payment_method, gateway,
                                  gateway_payment_id, status, credited_transaction_id, created_at, updated_at)
            VALUES (\(bind: UUID()), \(bind: charge.userID), \(bind: charge.package.id), \(bind: charge.package.credits),
                    \(bind: charge.package.priceCents), \(bind: charge.package.currency), \(bind: charge.paymentMethod),
                    \(bind: self.gateway.name), \(bind: paymentID), \(bind: status.rawValue), \(bind: creditedTransactionID), \(now), \(now))
            """
        ).run()
    }
}
