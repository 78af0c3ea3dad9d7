import Foundation
import Hummingbird
import SQLKit

/// Buying a credit package: check the request, claim its idempotency key, charge the gateway, then credit
/// the wallet and keep the answer in one transaction.
///
/// The charge happens outside any transaction (it is a network call); the idempotency key, held from before the
/// charge until the answer is stored, is what keeps a retried or duplicated request from charging twice, and
/// the gateway's payment id (unique in `payments`) is what keeps one payment from being credited twice.
struct CreditPurchases: Sendable {
    let database: Database
    let ledger: CreditLedger
    let catalog: CreditCatalog
    let gateway: any PaymentGateway
    let idempotency: IdempotencyStore

    /// The answer to send, and whether it is a replay of an earlier one.
    func purchase(_ body: PurchaseRequest, userID: UUID, idempotencyKey: String?) async throws -> (StoredResponse, replayed: Bool) {
        guard let package = self.catalog.package(id: body.packageID) else { throw Problem.notFound("Credit package") }
        var validator = Validator()
        validator.check((1...50).contains(body.paymentMethod.count), "payment_method", "Must be 1 to 50 characters.")
        validator.check((1...255).contains(body.paymentToken.count), "payment_token", "Must be 1 to 255 characters.")
        if let problem = self.gateway.validate(paymentToken: body.paymentToken) {
            validator.check(false, problem.field, problem.message)
        }
        try validator.validate()

        let key = idempotencyKey.map {
            IdempotencyStore.Key(userID: userID, scope: "purchase", key: $0, requestHash: body.fingerprint)
        }
        if let key {
            switch try await self.idempotency.claim(key) {
            case .claimed: break
            case .replay(let stored): return (stored, true)
            case .reused: throw Self.keyReused
            case .inProgress: throw Self.keyInProgress
            }
        }

        let charge = ChargeRequest(
            userID: userID,
            package: package,
            paymentMethod: body.paymentMethod,
            paymentToken: body.paymentToken,
            idempotencyKey: key.map { "purchase-\(userID.lowercased)-\($0.key)" } ?? "purchase-\(UUID().lowercased)"
        )
        let outcome: ChargeOutcome
        do {
            outcome = try await self.gateway.charge(charge)
        } catch {
            if let key { try? await self.idempotency.release(key) }
            throw (error as? Problem) ?? Self.gatewayUnavailable
        }

        let stored = try await self.database.transaction { connection in
            let stored = try await self.record(outcome, of: charge, on: connection)
            if let key { try await self.idempotency.complete(key, with: stored, on: connection) }
            return stored
        }
        return (stored, false)
    }

    /// Writes what the gateway said: a credited payment, or a pending one; a decline writes nothing but its answer.
    private func record(_ outcome: ChargeOutcome, of charge: ChargeRequest, on connection: any SQLDatabase) async throws -> StoredResponse {
        let package = charge.package
        switch outcome {
        case .declined(_, let message):
            return StoredResponse(Problem(.paymentRequired, code: "payment_failed", detail: message))

        case .pending(let paymentID, let clientSecret):
            try await self.insertPayment(charge, paymentID: paymentID, status: "pending", creditedTransactionID: nil, on: connection)
            return try StoredResponse(status: 202, encoding: PendingPurchaseResponse(paymentIntentID: paymentID, clientSecret: clientSecret))

        case .succeeded(let paymentID):
            if let earlier = try await self.creditedEntry(paymentID: paymentID, on: connection) {
                // Already credited (a retry that took over a key whose first owner died after committing).
                return try StoredResponse(status: 200, encoding: self.answer(package, entry: earlier))
            }
            let entry = try await self.ledger.apply(
                CreditLedger.Movement(
                    userID: charge.userID,
                    type: .purchase,
                    credits: package.credits,
                    description: "Purchased \(package.name) (\(package.credits) credits)",
                    extraData: [
                        "package_id": package.id,
                        "payment_method": charge.paymentMethod,
                        "gateway": self.gateway.name,
                        "gateway_payment_id": paymentID,
                    ]
                ),
                on: connection
            )
            try await self.insertPayment(charge, paymentID: paymentID, status: "succeeded", creditedTransactionID: entry.id, on: connection)
            return try StoredResponse(status: 200, encoding: self.answer(package, entry: entry))
        }
    }

    private func answer(_ package: CreditPackage, entry: CreditLedger.Entry) -> PurchaseResponse {
        PurchaseResponse(
            transactionID: entry.id.lowercased,
            creditsAdded: entry.credits,
            newBalance: entry.balanceAfter,
            amountPaid: Money(cents: package.priceCents),
            currency: package.currency
        )
    }

    private func creditedEntry(paymentID: String, on connection: any SQLDatabase) async throws -> CreditLedger.Entry? {
        guard
            let row = try await connection.raw(
                """
                SELECT t.id, t.credits, t.balance_after, t.sequence FROM payments p
                JOIN credit_transactions t ON t.id = p.credited_transaction_id
                WHERE p.gateway = \(bind: self.gateway.name) AND p.gateway_payment_id = \(bind: paymentID)
                """
            ).first()
        else { return nil }
        return CreditLedger.Entry(
            id: try row.decode(column: "id", as: UUID.self),
            credits: try row.decode(column: "credits", as: Int.self),
            balanceAfter: try row.decode(column: "balance_after", as: Int.self),
            sequence: try row.decode(column: "sequence", as: Int.self)
        )
    }

    private func insertPayment(
        _ charge: ChargeRequest, paymentID: String, status: String, creditedTransactionID: UUID?, on connection: any SQLDatabase
    ) async throws {
        let now = self.database.dialect.now
        try await connection.raw(
            """
            INSERT INTO payments (id, user_id, package_id, credits, amount_cents, currency, payment_method, gateway,
                                  gateway_payment_id, status, credited_transaction_id, created_at, updated_at)
            VALUES (\(bind: UUID()), \(bind: charge.userID), \(bind: charge.package.id), \(bind: charge.package.credits),
                    \(bind: charge.package.priceCents), \(bind: charge.package.currency), \(bind: charge.paymentMethod),
                    \(bind: self.gateway.name), \(bind: paymentID), \(bind: status), \(bind: creditedTransactionID), \(now), \(now))
            """
        ).run()
    }

    static let keyReused = Problem(
        .conflict, code: "idempotency_key_reused", detail: "This Idempotency-Key was already used with a different request.")
    static let keyInProgress = Problem(
        .conflict,
        code: "idempotency_in_progress",
        detail: "A request with this Idempotency-Key is still being processed; retry shortly.",
        headers: [.retryAfter: "1"]
    )
    static let gatewayUnavailable = Problem(
        .badGateway, code: "payment_gateway_unavailable", detail: "The payment provider could not be reached; nothing was charged.")
}
