import Foundation
import Logging
import SQLKit

/// What verified Stripe events do to payments and wallets.
///
/// Each event runs in one transaction that first records its id: a replay finds the id taken and changes
/// nothing, and an event that fails half-way leaves no trace, so Stripe's redelivery runs it again from scratch.
struct StripeWebhookStore: Sendable {
    let database: Database
    let ledger: CreditLedger
    let catalog: CreditCatalog

    static let gateway = AppConfiguration.PaymentGatewayKind.stripe.rawValue

    /// A `payments` row, as crediting and refunding read it.
    private struct PaymentRow: Decodable {
        var id: UUID
        var userID: UUID
        var packageID: String
        var credits: Int
        var paymentMethod: String
        var refundedCents: Int
        var refundedCredits: Int
        enum CodingKeys: String, CodingKey {
            case id, credits
            case userID = "user_id"
            case packageID = "package_id"
            case paymentMethod = "payment_method"
            case refundedCents = "refunded_cents"
            case refundedCredits = "refunded_credits"
        }
        static let columns: SQLQueryString = "id, user_id, package_id, credits, payment_method, refunded_cents, refunded_credits"
    }

    /// Applies `event` unless its id was seen before; returns whether it was new.
    @discardableResult
    func apply(_ event: StripeEvent, logger: Logger) async throws -> Bool {
        try await self.database.transaction { connection in
            let now = self.database.dialect.now
            let recorded = try await connection.raw(
                """
                INSERT INTO webhook_events (id, type, received_at) VALUES (\(bind: event.id), \(bind: event.type), \(now))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """
            ).first()
            guard recorded != nil else { return false }
            switch event.action {
            case .paymentSucceeded(let intentID):
                try await self.credit(intentID: intentID, on: connection)
            case .paymentFailed(let intentID):
                try await self.markFailed(intentID: intentID, on: connection)
            case .chargeRefunded(let charge):
                try await self.takeBack(charge, on: connection, logger: logger)
            case .ignored:
                break
            }
            return true
        }
    }

    /// Credits a payment Stripe reports succeeded, unless it already was.
    ///
    /// Flipping `status` is the claim: one conditional `UPDATE`, so of two deliveries racing for the same intent
    /// only one matches a row (the other waits for its row lock, then sees `succeeded`). A `failed` payment is
    /// claimed too: Stripe lets the customer retry an intent whose first attempt failed.
    private func credit(intentID: String, on connection: any SQLDatabase) async throws {
        let now = self.database.dialect.now
        guard
            let payment = try await connection.raw(
                """
                UPDATE payments SET status = \(literal: PaymentStatus.succeeded.rawValue), updated_at = \(now)
                WHERE gateway = \(bind: Self.gateway) AND gateway_payment_id = \(bind: intentID)
                  AND status <> \(literal: PaymentStatus.succeeded.rawValue)
                RETURNING \(PaymentRow.columns)
                """
            ).first(decoding: PaymentRow.self)
        else { return }
        // The package may have left the catalog since; the payment row still says what was bought.
        let packageName = self.catalog.package(id: payment.packageID)?.name ?? payment.packageID
        let entry = try await self.ledger.apply(
            CreditLedger.Movement(
                userID: payment.userID,
                type: .purchase,
                credits: payment.credits,
                description: "Purchased \(packageName) (\(payment.credits) credits)",
                extraData: [
                    "package_id": payment.packageID,
                    "payment_method": payment.paymentMethod,
                    "gateway": Self.gateway,
                    "gateway_payment_id": intentID,
                ]
            ),
            on: connection
        )
        try await connection.raw(
            "UPDATE payments SET credited_transaction_id = \(bind: entry.id) WHERE id = \(bind: payment.id)"
        ).run()
    }

    /// A failed attempt only matters while the payment is pending; it never undoes a success that arrived first.
    private func markFailed(intentID: String, on connection: any SQLDatabase) async throws {
        try await connection.raw(
            """
            UPDATE payments SET status = \(literal: PaymentStatus.failed.rawValue), updated_at = \(self.database.dialect.now)
            WHERE gateway = \(bind: Self.gateway) AND gateway_payment_id = \(bind: intentID)
              AND status = \(literal: PaymentStatus.pending.rawValue)
            """
        ).run()
    }

    /// Takes back the credits a card refund paid for, as far as the balance allows.
    ///
    /// `amount_refunded` is cumulative, so the credits due are recomputed from it and only the part not taken
    /// back yet is removed: replays, reordered and partial-then-full refunds all end at the same total. What the
    /// balance cannot cover (the user already spent it) is the shortfall: recorded on the ledger row and on the
    /// payment for review, and counted as taken back so that later events do not try again.
    private func takeBack(_ charge: StripeEvent.Charge, on connection: any SQLDatabase, logger: Logger) async throws {
        guard let intentID = charge.paymentIntent, charge.amount > 0 else { return }
        let dialect = self.database.dialect
        // Locked so that two refund events of one payment apply one after the other.
        guard
            let payment = try await connection.raw(
                """
                SELECT \(PaymentRow.columns) FROM payments
                WHERE gateway = \(bind: Self.gateway) AND gateway_payment_id = \(bind: intentID)
                  AND credited_transaction_id IS NOT NULL\(dialect.forUpdate)
                """
            ).first(decoding: PaymentRow.self)
        else { return }
        let refundedCents = min(charge.amountRefunded, charge.amount)
        guard refundedCents > payment.refundedCents else { return }

        let paymentRowID = payment.id
        let userID = payment.userID
        let packageID = payment.packageID
        let wanted = payment.credits * refundedCents / charge.amount - payment.refundedCredits

        var shortfall = 0
        if wanted > 0 {
            // Locked so that the balance read here is still the balance when the ledger row is written.
            let balance = try await connection.raw("SELECT credits FROM users WHERE id = \(bind: userID)\(dialect.forUpdate)")
                .first(decodingColumn: "credits", as: Int.self) ?? 0
            let taken = min(wanted, balance)
            shortfall = wanted - taken
            if taken > 0 {
                let packageName = self.catalog.package(id: packageID)?.name ?? packageID
                _ = try await self.ledger.apply(
                    CreditLedger.Movement(
                        userID: userID,
                        type: .refund,
                        credits: -taken,
                        description: "Card refund: \(packageName) (\(taken) credits)",
                        extraData: [
                            "payment_id": paymentRowID.lowercased,
                            "gateway": Self.gateway,
                            "gateway_payment_id": intentID,
                            "charge_id": charge.id,
                            "amount_refunded": String(refundedCents),
                            "wanted": String(wanted),
                            "shortfall": String(shortfall),
                        ]
                    ),
                    on: connection
                )
            }
            if shortfall > 0 {
                logger.warning(
                    "card refund exceeds the balance",
                    metadata: [
                        "payment_id": .string(paymentRowID.lowercased), "wanted": .stringConvertible(wanted),
                        "shortfall": .stringConvertible(shortfall),
                    ])
            }
        }
        try await connection.raw(
            """
            UPDATE payments SET refunded_cents = \(bind: refundedCents),
                refunded_credits = refunded_credits + \(bind: max(wanted, 0)),
                refund_shortfall_credits = refund_shortfall_credits + \(bind: shortfall),
                updated_at = \(dialect.now)
            WHERE id = \(bind: paymentRowID)
            """
        ).run()
    }
}
