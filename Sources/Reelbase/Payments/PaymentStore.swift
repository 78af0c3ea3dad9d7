import Foundation
import Logging
import SQLKit

/// The `payments` table, and the events that wait for a payment to be credited.
///
/// A payment is recorded `pending` before the gateway is asked, then settled once by whichever learns its outcome
/// first: the purchase request, a webhook or the reconciler. Settling is one conditional `UPDATE` of its status in
/// the transaction that writes its ledger row, so of racing settlers exactly one matches the row; the others wait
/// for its row lock, then find it settled.
struct PaymentStore: Sendable {
    let database: Database
    let ledger: CreditLedger
    let catalog: CreditCatalog
    var referrals: ReferralRewards
    var subscriptions: SubscriptionGrants

    init(
        database: Database, ledger: CreditLedger, catalog: CreditCatalog, referrals: ReferralRewards? = nil,
        subscriptions: SubscriptionGrants? = nil
    ) {
        self.database = database
        self.ledger = ledger
        self.catalog = catalog
        self.referrals = referrals ?? ReferralRewards(dialect: database.dialect, ledger: ledger)
        self.subscriptions = subscriptions ?? SubscriptionGrants(dialect: database.dialect, ledger: ledger, plans: .builtIn)
    }

    /// A `payments` row.
    struct Row: Decodable, Sendable {
        var id: UUID
        var userID: UUID
        var packageID: String
        var credits: Int
        var amountCents: Int
        var currency: String
        var paymentMethod: String
        var paymentToken: String?
        var gateway: String
        var gatewayPaymentID: String?
        var gatewayIdempotencyKey: String?
        var status: PaymentStatus
        var creditedTransactionID: UUID?
        var refundedCents: Int
        var refundedCredits: Int
        var createdAt: Date
        var subscriptionID: UUID?
        var periodIndex: Int?
        var periodStart: Date?
        var periodEnd: Date?
        var attempt: Int?

        /// The subscription period this payment pays for, if it is a subscription's charge.
        var subscriptionCharge: SubscriptionCharge? {
            guard let subscriptionID, let periodIndex, let periodStart, let periodEnd, let attempt else { return nil }
            return SubscriptionCharge(
                subscriptionID: subscriptionID, periodIndex: periodIndex, periodStart: periodStart, periodEnd: periodEnd, attempt: attempt)
        }

        enum CodingKeys: String, CodingKey {
            case attempt
            case id, credits, currency, gateway, status
            case userID = "user_id"
            case packageID = "package_id"
            case amountCents = "amount_cents"
            case paymentMethod = "payment_method"
            case paymentToken = "payment_token"
            case gatewayPaymentID = "gateway_payment_id"
            case gatewayIdempotencyKey = "gateway_idempotency_key"
            case creditedTransactionID = "credited_transaction_id"
            case refundedCents = "refunded_cents"
            case refundedCredits = "refunded_credits"
            case createdAt = "created_at"
            case subscriptionID = "subscription_id"
            case periodIndex = "period_index"
            case periodStart = "period_start"
            case periodEnd = "period_end"
        }

        static let columns: SQLQueryString = """
            id, user_id, package_id, credits, amount_cents, currency, payment_method, payment_token, gateway, \
            gateway_payment_id, gateway_idempotency_key, status, credited_transaction_id, refunded_cents, refunded_credits, created_at, \
            subscription_id, period_index, period_start, period_end, attempt
            """
    }

    // MARK: Recording

    /// Records the payment `pending` in its own committed transaction, before the gateway is asked, so that a crash
    /// or time-out after the charge leaves a row the reconciler settles. A retry whose gateway key an earlier
    /// attempt recorded gets that attempt's row.
    func recordPending(_ charge: ChargeRequest, gateway: String) async throws -> Row {
        try await self.database.transaction { connection in try await self.recordPending(charge, gateway: gateway, on: connection) }
    }

    /// ``recordPending(_:gateway:)`` inside the caller's transaction (a subscription records its first charge with
    /// the subscription itself).
    func recordPending(_ charge: ChargeRequest, gateway: String, on connection: any SQLDatabase) async throws -> Row {
        let now = self.database.dialect.now
        let key = charge.idempotencyKey
        let period = charge.subscription
        try await connection.raw(
            """
            INSERT INTO payments (id, user_id, package_id, credits, amount_cents, currency, payment_method, payment_token, gateway,
                                  gateway_idempotency_key, status, created_at, updated_at,
                                  subscription_id, period_index, period_start, period_end, attempt)
            VALUES (\(bind: charge.paymentID), \(bind: charge.userID), \(bind: charge.package.id), \(bind: charge.package.credits),
                    \(bind: charge.package.priceCents), \(bind: charge.package.currency), \(bind: charge.paymentMethod),
                    \(bind: charge.paymentToken), \(bind: gateway), \(bind: key), \(literal: PaymentStatus.pending.rawValue), \(now), \(now),
                    \(bind: period?.subscriptionID), \(bind: period?.periodIndex), \(bind: period?.periodStart), \(bind: period?.periodEnd),
                    \(bind: period?.attempt))
            ON CONFLICT (gateway_idempotency_key) DO NOTHING
            """
        ).run()
        guard
            let row = try await connection.raw("SELECT \(Row.columns) FROM payments WHERE gateway_idempotency_key = \(bind: key)")
                .first(decoding: Row.self)
        else { throw UnexpectedRow("payment with gateway key just recorded is missing") }
        return row
    }

    /// Settles a payment as the gateway answered, on `connection` (inside a write transaction). Returns the
    /// payment's `purchase` ledger row when it is credited, by this call or an earlier one. `notifying`: whether a
    /// credit writes a `purchase_credited` notification (not for the purchase request itself, which answers it).
    func settle(
        _ paymentID: UUID, as outcome: ChargeOutcome, notifying: Bool = true, on connection: any SQLDatabase, logger: Logger
    ) async throws -> CreditLedger.Entry? {
        switch outcome {
        case .succeeded(let gatewayPaymentID):
            guard
                let entry = try await self.credit(
                    paymentID, gatewayPaymentID: gatewayPaymentID, notifying: notifying, on: connection, logger: logger)
            else {
                throw UnexpectedRow("payment \(paymentID.lowercased) vanished while being credited")
            }
            return entry
        case .declined(let gatewayPaymentID, _):
            try await self.fail(paymentID, gatewayPaymentID: gatewayPaymentID, on: connection)
            return nil
        case .pending(let gatewayPaymentID, _):
            try await connection.raw(
                """
                UPDATE payments SET gateway_payment_id = COALESCE(gateway_payment_id, \(bind: gatewayPaymentID)),
                    updated_at = \(self.database.dialect.now)
                WHERE id = \(bind: paymentID)
                """
            ).run()
            return nil
        }
    }

    /// Credits a payment unless it already was; returns its `purchase` ledger row either way (`nil`: no such payment).
    ///
    /// Flipping `status` is the claim. A `failed` payment is claimed too: Stripe lets a customer retry an intent
    /// whose first attempt failed. Events that waited for this payment (a refund reported before the success) are
    /// applied in the same transaction. A credit arriving after the purchase answered (webhook, reconciler) is told to
    /// the user by a `purchase_credited` notification, unless `notifying` is false.
    func credit(
        _ paymentID: UUID, gatewayPaymentID: String, notifying: Bool = true, on connection: any SQLDatabase, logger: Logger
    ) async throws -> CreditLedger.Entry? {
        guard
            let payment = try await connection.raw(
                """
                UPDATE payments SET status = \(literal: PaymentStatus.succeeded.rawValue),
                    gateway_payment_id = COALESCE(gateway_payment_id, \(bind: gatewayPaymentID)),
                    payment_token = NULL, next_reconcile_at = NULL, updated_at = \(self.database.dialect.now)
                WHERE id = \(bind: paymentID) AND status <> \(literal: PaymentStatus.succeeded.rawValue)
                RETURNING \(Row.columns)
                """
            ).first(decoding: Row.self)
        else {
            return try await connection.raw(
                """
                SELECT t.id, t.credits, t.balance_after, t.sequence FROM payments p
                JOIN credit_transactions t ON t.id = p.credited_transaction_id
                WHERE p.id = \(bind: paymentID)
                """
            ).first(decoding: CreditLedger.Entry.self)
        }
        let entry: CreditLedger.Entry
        if let period = payment.subscriptionCharge {
            let grant = try await self.subscriptions.paid(payment, period, on: connection)
            entry = grant.entry
            // A second charge for a period already granted (a retried attempt that had gone through) credits nothing:
            // the audit reports the payment, for a refund.
            if grant.granted {
                try await connection.raw("UPDATE payments SET credited_transaction_id = \(bind: entry.id) WHERE id = \(bind: payment.id)").run()
            }
            if notifying && period.periodIndex == 0 {
                try await NotificationWriter(dialect: self.database.dialect).write(
                    NewNotification(recipientID: payment.userID, kind: .purchaseCredited, credits: entry.credits), on: connection)
            }
        } else {
            // The package may have left the catalog since; the payment row still says what was bought.
            let packageName = self.catalog.package(id: payment.packageID)?.name ?? payment.packageID
            entry = try await self.ledger.apply(
                CreditLedger.Movement(
                    userID: payment.userID,
                    type: .purchase,
                    credits: payment.credits,
                    description: "Purchased \(packageName) (\(payment.credits) credits)",
                    extraData: [
                        "package_id": payment.packageID,
                        "payment_method": payment.paymentMethod,
                        "gateway": payment.gateway,
                        "gateway_payment_id": payment.gatewayPaymentID ?? gatewayPaymentID,
                    ]
                ),
                on: connection
            )
            try await connection.raw("UPDATE payments SET credited_transaction_id = \(bind: entry.id) WHERE id = \(bind: payment.id)").run()
            if notifying {
                try await NotificationWriter(dialect: self.database.dialect).write(
                    NewNotification(recipientID: payment.userID, kind: .purchaseCredited, credits: entry.credits), on: connection)
            }
        }
        let refunded = try await self.applyWaitingEvents(of: payment, on: connection, logger: logger)
        try await self.referrals.paymentCredited(payment, alreadyRefunded: refunded, on: connection)
        return entry
    }

    /// A failure only matters while the payment is pending; it never undoes a success that came first. A
    /// subscription's failed charge moves the subscription on (``SubscriptionGrants/failed(_:_:on:)``).
    func fail(_ paymentID: UUID, gatewayPaymentID: String?, on connection: any SQLDatabase) async throws {
        let failed = try await connection.raw(
            """
            UPDATE payments SET status = \(literal: PaymentStatus.failed.rawValue),
                gateway_payment_id = COALESCE(gateway_payment_id, \(bind: gatewayPaymentID)),
                payment_token = NULL, next_reconcile_at = NULL, updated_at = \(self.database.dialect.now)
            WHERE id = \(bind: paymentID) AND status = \(literal: PaymentStatus.pending.rawValue)
            RETURNING \(Row.columns)
            """
        ).first(decoding: Row.self)
        if let failed, let period = failed.subscriptionCharge {
            try await self.subscriptions.failed(failed, period, on: connection)
        }
    }

    /// ``fail(_:gatewayPaymentID:on:)`` in a transaction of its own.
    func fail(_ paymentID: UUID, gatewayPaymentID: String?) async throws {
        try await self.database.transaction { connection in try await self.fail(paymentID, gatewayPaymentID: gatewayPaymentID, on: connection) }
    }

    // MARK: Finding

    /// The payment of `gateway` an event concerns, locked until the transaction ends so that a refund and the
    /// credit it must follow apply one after the other. `metadata[payment_id]` is believed only for a payment that
    /// has no intent id yet or this one.
    func find(_ reference: StripeEvent.PaymentReference, gateway: String, on connection: any SQLDatabase) async throws -> Row? {
        let lock = self.database.dialect.forUpdate
        if let paymentID = reference.paymentID,
            let row = try await connection.raw(
                """
                SELECT \(Row.columns) FROM payments
                WHERE id = \(bind: paymentID) AND gateway = \(bind: gateway)
                  AND (gateway_payment_id IS NULL OR gateway_payment_id = \(bind: reference.intentID))\(lock)
                """
            ).first(decoding: Row.self)
        {
            return row
        }
        if let row = try await connection.raw(
            "SELECT \(Row.columns) FROM payments WHERE gateway = \(bind: gateway) AND gateway_payment_id = \(bind: reference.intentID)\(lock)"
        ).first(decoding: Row.self) {
            return row
        }
        // A subscription invoice's payment is keyed by the invoice, which `invoice_payment.paid` tied to this intent.
        return try await connection.raw(
            """
            SELECT \(Row.columns) FROM payments
            WHERE gateway = \(bind: gateway)
              AND gateway_payment_id = (SELECT invoice_id FROM stripe_invoice_intents WHERE intent_id = \(bind: reference.intentID))\(lock)
            """
        ).first(decoding: Row.self)
    }

    /// Records which PaymentIntent paid a Stripe invoice, then applies the refunds of that intent that were kept
    /// waiting for it, if the invoice's payment is credited by now (else its crediting applies them).
    func linkInvoice(_ invoiceID: String, toIntent intentID: String, on connection: any SQLDatabase, logger: Logger) async throws {
        try await connection.raw(
            """
            INSERT INTO stripe_invoice_intents (intent_id, invoice_id, received_at)
            VALUES (\(bind: intentID), \(bind: invoiceID), \(self.database.dialect.now))
            ON CONFLICT (intent_id) DO NOTHING
            """
        ).run()
        guard
            let payment = try await connection.raw(
                """
                SELECT \(Row.columns) FROM payments
                WHERE gateway = \(bind: StripeWebhookStore.gateway) AND gateway_payment_id = \(bind: invoiceID)\(self.database.dialect.forUpdate)
                """
            ).first(decoding: Row.self), payment.creditedTransactionID != nil
        else { return }
        try await self.applyWaitingEvents(of: payment, on: connection, logger: logger)
    }

    /// Claims up to `limit` payments of `gateway` pending since before `cutoff` and not attempted since, setting
    /// when each may be attempted again. Concurrent reconcilers claim different rows: Postgres skips the rows another
    /// one holds, and SQLite runs one write transaction at a time; the next attempt time is the lease.
    func claimDue(
        gateway: String, pendingSince cutoff: Date, now: Date, limit: Int, nextAttempt: @escaping @Sendable (Row) -> Date
    ) async throws -> [Row] {
        try await self.database.transaction { connection in
            let rows = try await connection.raw(
                """
                SELECT \(Row.columns) FROM payments
                WHERE status = \(literal: PaymentStatus.pending.rawValue) AND gateway = \(bind: gateway) AND created_at <= \(bind: cutoff)
                  AND (next_reconcile_at IS NULL OR next_reconcile_at <= \(bind: now))
                ORDER BY created_at \(limit: limit)\(self.database.dialect.forUpdateSkipLocked)
                """
            ).all(decoding: Row.self)
            for row in rows {
                try await connection.raw("UPDATE payments SET next_reconcile_at = \(bind: nextAttempt(row)) WHERE id = \(bind: row.id)").run()
            }
            return rows
        }
    }

    // MARK: Refunds and waiting events

    /// Takes back the credits a card refund paid for, as far as the balance allows; `false` when the payment is not
    /// credited yet, so there is nothing to take back until it is.
    ///
    /// `amount_refunded` is cumulative, so the credits due are recomputed from it and only the part not taken back
    /// yet is removed: replays, reordered and partial-then-full refunds all end at the same total. The proportion is
    /// of the amount this server charged, never the event's. What the balance cannot cover (the user already spent
    /// it) is the shortfall: recorded on the ledger row and on the payment for review, and counted as taken back so
    /// that later events do not try again. `payment` must be locked by the caller's transaction.
    func refund(_ charge: StripeEvent.Charge, of payment: Row, on connection: any SQLDatabase, logger: Logger) async throws -> Bool {
        guard payment.creditedTransactionID != nil else { return false }
        guard payment.amountCents > 0 else { return true }
        let refundedCents = min(max(charge.amountRefunded, 0), payment.amountCents)
        guard refundedCents > payment.refundedCents else { return true }

        let dialect = self.database.dialect
        try await self.referrals.paymentRefunded(payment.id, on: connection, logger: logger)
        let wanted = Self.share(of: payment.credits, part: refundedCents, whole: payment.amountCents) - payment.refundedCredits
        var shortfall = 0
        if wanted > 0 {
            // The balance after the user's overdue lots expired, with the user's row locked, so that it is still the
            // balance when the ledger row is written.
            let balance = try await self.ledger.expireOverdueLots(of: payment.userID, on: connection)
            let taken = min(wanted, balance)
            shortfall = wanted - taken
            if taken > 0 {
                let packageName =
                    (payment.subscriptionID == nil
                        ? self.catalog.package(id: payment.packageID)?.name : self.subscriptions.plans.plan(id: payment.packageID)?.name)
                    ?? payment.packageID
                _ = try await self.ledger.apply(
                    CreditLedger.Movement(
                        userID: payment.userID,
                        type: .refund,
                        credits: -taken,
                        description: "Card refund: \(packageName) (\(taken) credits)",
                        extraData: [
                            "payment_id": payment.id.lowercased,
                            "gateway": payment.gateway,
                            "gateway_payment_id": payment.gatewayPaymentID ?? charge.paymentIntent ?? "",
                            "charge_id": charge.id,
                            "amount_refunded": String(refundedCents),
                            "wanted": String(wanted),
                            "shortfall": String(shortfall),
                        ],
                        // Out of the purchase's own lot first, then from the others in spend order.
                        undoing: payment.creditedTransactionID
                    ),
                    on: connection
                )
                // Once per refund event that takes credits: a replay takes nothing more and reaches no further.
                try await NotificationWriter(dialect: dialect).write(
                    NewNotification(recipientID: payment.userID, kind: .paymentRefunded, credits: -taken), on: connection)
            }
            if shortfall > 0 {
                logger.warning(
                    "card refund exceeds the balance",
                    metadata: [
                        "payment_id": .string(payment.id.lowercased), "wanted": .stringConvertible(wanted),
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
            WHERE id = \(bind: payment.id)
            """
        ).run()
        return true
    }

    /// ⌊credits × part ÷ whole⌋ in full width, so no product overflows; `0 ≤ part ≤ whole` keeps the quotient
    /// within `credits`.
    static func share(of credits: Int, part: Int, whole: Int) -> Int {
        whole.dividingFullWidth(credits.multipliedFullWidth(by: part)).quotient
    }

    /// Applies the events kept for a payment just credited: those stored against it, and those that named its
    /// intent before any payment was known to hold it. Each is applied once: its payload is cleared.
    /// Returns whether one of them recorded a refund (a payment is refunded only once credited, so before them it was not).
    @discardableResult
    private func applyWaitingEvents(of payment: Row, on connection: any SQLDatabase, logger: Logger) async throws -> Bool {
        struct Waiting: Decodable {
            var id: String
            var payload: String
        }
        let waiting = try await connection.raw(
            """
            SELECT id, payload FROM webhook_events
            WHERE payload IS NOT NULL AND (payment_id = \(bind: payment.id) OR (payment_id IS NULL AND (intent_id = \(bind: payment.gatewayPaymentID)
                OR intent_id IN (SELECT intent_id FROM stripe_invoice_intents WHERE invoice_id = \(bind: payment.gatewayPaymentID)))))
            ORDER BY received_at, id
            """
        ).all(decoding: Waiting.self)
        var refunded = false
        for event in waiting {
            // Only refunds wait; each is read against the payment as the previous one left it. A payload that no
            // longer decodes is dropped rather than block the credit.
            if case .chargeRefunded(let charge) = (try? StripeEvent(payload: Data(event.payload.utf8)))?.action,
                let current = try await connection.raw("SELECT \(Row.columns) FROM payments WHERE id = \(bind: payment.id)").first(decoding: Row.self)
            {
                _ = try await self.refund(charge, of: current, on: connection, logger: logger)
                refunded = refunded || charge.amountRefunded > 0
            }
            try await connection.raw(
                "UPDATE webhook_events SET payload = NULL, payment_id = \(bind: payment.id) WHERE id = \(bind: event.id)"
            ).run()
        }
        return refunded
    }

    /// Applies the refunds still waiting for a payment that is credited, one transaction per payment; returns how
    /// many payments it caught up.
    ///
    /// Only a refund that named nothing but its intent can be left so: on PostgreSQL, one arriving while the
    /// transaction that credits its payment (and first records the intent's id) is running finds no payment, and is
    /// kept after that transaction looked for waiting events. A refund naming its payment waits for the payment's row
    /// lock instead, and SQLite runs one write transaction at a time.
    @discardableResult
    func applyStrandedEvents(logger: Logger) async throws -> Int {
        let stranded = try await self.database.sql.raw(
            """
            SELECT DISTINCT p.id FROM webhook_events e JOIN payments p ON p.gateway_payment_id = e.intent_id
            WHERE e.payload IS NOT NULL AND e.payment_id IS NULL AND p.credited_transaction_id IS NOT NULL
            """
        ).all(decodingColumn: "id", as: UUID.self)
        for paymentID in stranded {
            try await self.database.transaction { connection in
                let payment = try await connection.raw(
                    "SELECT \(Row.columns) FROM payments WHERE id = \(bind: paymentID)\(self.database.dialect.forUpdate)"
                ).first(decoding: Row.self)
                if let payment { try await self.applyWaitingEvents(of: payment, on: connection, logger: logger) }
            }
            logger.notice("waiting refund applied to a credited payment", metadata: ["payment_id": .string(paymentID.lowercased)])
        }
        return stranded.count
    }

    /// Keeps an event until its payment is credited: against `paymentID`, or against no payment (then under its
    /// intent id, pruned with the other events about unknown payments).
    func keepWaiting(eventID: String, payload: String, paymentID: UUID?, on connection: any SQLDatabase) async throws {
        try await connection.raw(
            "UPDATE webhook_events SET payload = \(bind: payload), payment_id = \(bind: paymentID) WHERE id = \(bind: eventID)"
        ).run()
    }

    /// Records which payment an event concerned.
    func link(eventID: String, to paymentID: UUID, on connection: any SQLDatabase) async throws {
        try await connection.raw("UPDATE webhook_events SET payment_id = \(bind: paymentID) WHERE id = \(bind: eventID)").run()
    }

    /// Deletes events about no known payment received before `cutoff` (API.md keeps them 7 days). Their ids go too:
    /// Stripe stops redelivering an event after 3 days. ``Housekeeping`` calls it.
    @discardableResult
    func pruneUnknownPaymentEvents(receivedBefore cutoff: Date) async throws -> Int {
        try await self.database.transaction { connection in
            try await connection.raw(
                "DELETE FROM webhook_events WHERE payment_id IS NULL AND received_at < \(bind: cutoff) RETURNING id"
            ).all().count
        }
    }
}

extension PaymentStore.Row {
    /// The payment as the gateway is asked about it again: the charge first sent, rebuilt from what was recorded.
    func recorded(catalog: CreditCatalog) -> RecordedPayment {
        var charge: ChargeRequest?
        if let paymentToken, let gatewayIdempotencyKey {
            let package = CreditPackage(
                id: self.packageID, credits: self.credits, priceCents: self.amountCents,
                name: catalog.package(id: self.packageID)?.name ?? self.packageID, currency: self.currency)
            charge = ChargeRequest(
                paymentID: self.id, userID: self.userID, package: package, paymentMethod: self.paymentMethod,
                paymentToken: paymentToken, idempotencyKey: gatewayIdempotencyKey, subscription: self.subscriptionCharge)
        }
        return RecordedPayment(id: self.id, createdAt: self.createdAt, gatewayPaymentID: self.gatewayPaymentID, charge: charge)
    }
}
