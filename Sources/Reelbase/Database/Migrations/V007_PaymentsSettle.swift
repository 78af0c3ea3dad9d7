import SQLKit

extension Migration {
    static let paymentsSettle = Migration(version: 7, name: "payments recorded before the charge, reconciler, deferred events") { d in
        [
            // The charge as first sent, so that the reconciler can send it again identically (Stripe answers a
            // repeated Idempotency-Key with its first result). `payment_token` is cleared once the payment settles.
            "ALTER TABLE payments ADD COLUMN payment_token TEXT",
            "ALTER TABLE payments ADD COLUMN gateway_idempotency_key TEXT",
            // When the reconciler may ask the gateway about this pending payment again (its lease and its backoff).
            "ALTER TABLE payments ADD COLUMN next_reconcile_at \(unsafeRaw: d.timestampType)",
            // One payment per gateway key: a retried purchase finds the row its first attempt recorded.
            "CREATE UNIQUE INDEX payments_gateway_idempotency_key ON payments (gateway_idempotency_key)",
            "CREATE INDEX payments_pending ON payments (created_at) WHERE status = \(literal: PaymentStatus.pending.rawValue)",
            // One purchase row per gateway payment, whoever credits it (the purchase, a webhook, the reconciler): the
            // status claim lets one through, and should it ever let a second, the database refuses it.
            purchasePaymentIndex(d),
            // The payment an event concerns (NULL: none known; such events are kept 7 days), its PaymentIntent, and
            // the payload of an event that must wait for its payment to be credited (NULL once applied).
            "ALTER TABLE webhook_events ADD COLUMN payment_id \(unsafeRaw: d.uuidType) REFERENCES payments (id)",
            "ALTER TABLE webhook_events ADD COLUMN intent_id TEXT",
            "ALTER TABLE webhook_events ADD COLUMN payload TEXT",
            "CREATE INDEX webhook_events_waiting_payment ON webhook_events (payment_id) WHERE payload IS NOT NULL",
            "CREATE INDEX webhook_events_waiting_intent ON webhook_events (intent_id) WHERE payload IS NOT NULL AND payment_id IS NULL",
            "CREATE INDEX webhook_events_unknown_payment ON webhook_events (received_at) WHERE payment_id IS NULL",
        ]
    }

    static func purchasePaymentIndex(_ d: SQLDialectKind) -> SQLQueryString {
        """
        CREATE UNIQUE INDEX credit_transactions_purchase_payment
            ON credit_transactions (\(d.jsonText("extra_data", "gateway")), \(d.jsonText("extra_data", "gateway_payment_id")))
            WHERE transaction_type = \(literal: CreditLedger.TransactionType.purchase.rawValue)
        """
    }
}
