import Foundation
import Logging
import ServiceLifecycle

/// Settles payments whose outcome no request learned (a time-out, a crash between the charge and the commit, a
/// webhook that never came) from the gateway's own record: pending longer than `RECONCILE_AFTER_SECONDS`.
///
/// Runs inside `serve` on every instance. Instances claim different payments (``PaymentStore/claimDue``), and
/// even two settling one payment credit it once: settling is the payment's conditional status update.
struct PaymentReconciler: Service {
    let payments: PaymentStore
    let gateway: any PaymentGateway
    /// `RECONCILE_AFTER_SECONDS`: the age at which a pending payment is looked up, and the shortest wait between
    /// two lookups of one payment.
    let after: Duration
    let logger: Logger

    /// Payments claimed per transaction.
    static let batchSize = 20
    /// A payment still pending at this age fails (API.md: a `requires_action` intent fails after 24 h). One whose
    /// intent id was never learned fails without being sent again: Stripe forgets idempotency keys after 24 h, so
    /// the identical create could then charge a second time (a client's retry is not sent either, ``CreditPurchases``).
    static let giveUpAfter: TimeInterval = 86_400
    /// The longest wait between two lookups of one payment that stays pending.
    static let longestRetry: TimeInterval = 3_600

    /// Often enough that a payment is looked up soon after it is due, at most every 30 s.
    var interval: Duration { min(.seconds(30), self.after / 2) }

    func run() async throws {
        await runPeriodically(every: self.interval, after: self.payments.database.migrated, logger: self.logger, failure: "payment reconciliation failed") { try await self.pass() }
    }

    /// One pass over every payment due at `now`; returns how many it settled.
    @discardableResult
    func pass(now: Date = Date()) async throws -> Int {
        try await self.payments.applyStrandedEvents(logger: self.logger)
        let after = self.after / .seconds(1)
        var settled = 0
        while true {
            // Backing off with the payment's age: a 3-D Secure intent the customer abandoned is asked about a few
            // dozen times in its 24 h, not once a minute.
            let due = try await self.payments.claimDue(
                gateway: self.gateway.name, pendingSince: now.addingTimeInterval(-after), now: now, limit: Self.batchSize,
                nextAttempt: { row in now.addingTimeInterval(min(max(after, now.timeIntervalSince(row.createdAt) / 4), Self.longestRetry)) }
            )
            for payment in due {
                // One payment's failure (the database, a row it cannot read) must not hold up the others; its
                // claim makes it wait its turn again.
                do {
                    if try await self.settle(payment, now: now) { settled += 1 }
                } catch {
                    self.logger.warning(
                        "settling a pending payment failed",
                        metadata: ["payment_id": .string(payment.id.lowercased), "error": .string(String(reflecting: error))])
                }
            }
            if due.count < Self.batchSize { return settled }
        }
    }

    /// Asks the gateway about one payment and settles it if the answer (or its age) decides it.
    private func settle(_ payment: PaymentStore.Row, now: Date) async throws -> Bool {
        let expired = now.timeIntervalSince(payment.createdAt) >= Self.giveUpAfter
        var metadata: Logger.Metadata = ["payment_id": .string(payment.id.lowercased)]
        if expired && payment.gatewayPaymentID == nil {
            try await self.payments.fail(payment.id, gatewayPaymentID: nil)
            self.logger.notice("pending payment failed: its outcome was never learned within 24 h", metadata: metadata)
            return true
        }
        var outcome: ChargeOutcome
        do {
            outcome = try await self.gateway.lookUp(payment.recorded(catalog: self.payments.catalog))
        } catch PaymentGatewayError.invalidPaymentToken {
            // The resent create was refused for its token, as the first was: nothing was charged, nothing will be.
            outcome = .declined(paymentID: nil, message: "The payment method was refused.")
        } catch {
            metadata["error"] = .string(String(reflecting: error))
            self.logger.warning("payment lookup failed; trying again later", metadata: metadata)
            guard expired else { return false }
            outcome = .declined(paymentID: nil, message: "No outcome within 24 h.")
        }
        if case .pending(let gatewayPaymentID, _) = outcome, expired {
            outcome = .declined(paymentID: gatewayPaymentID, message: "Still awaiting the customer after 24 h.")
        }
        let settledOutcome = outcome
        let entry = try await self.payments.database.transaction { connection in
            try await self.payments.settle(payment.id, as: settledOutcome, on: connection, logger: self.logger)
        }
        switch outcome {
        case .succeeded:
            metadata["transaction_id"] = entry.map { .string($0.id.lowercased) }
            self.logger.notice("pending payment credited by the reconciler", metadata: metadata)
            return true
        case .declined(_, let message):
            metadata["reason"] = .string(message)
            self.logger.notice("pending payment failed by the reconciler", metadata: metadata)
            return true
        case .pending:
            return false
        }
    }
}
