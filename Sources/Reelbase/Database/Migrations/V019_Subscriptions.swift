import SQLKit

extension Migration {
    /// Subscriptions, and the columns that make a subscription's charge a `payments` row like a purchase's: one
    /// recording, settling, reconciling and refunding path for both.
    static let subscriptions = Migration(version: 19, name: "subscriptions, their charges as payments, one grant per period") { d in
        [
            // The plan's name, credits and price are copied in: changing the plans file changes nothing for a
            // subscription already bought. `period_index` counts periods from `anchor` (the first period's start),
            // so that calendar months are computed from the anchor and never drift (Jan 31 → Feb 28 → Mar 31).
            // `next_attempt_at` is when the renewal service next looks at it (period end, then the grace retries);
            // the service moves it forward as a lease when it claims the row. Under Stripe Billing, Stripe renews:
            // `gateway_subscription_id`/`gateway_item_id` name its objects, and `last_event_at` (an event's `created`)
            // keeps an older webhook from undoing a newer one.
            """
            CREATE TABLE subscriptions (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                plan_id TEXT NOT NULL,
                plan_name TEXT NOT NULL,
                credits_per_period INTEGER NOT NULL CHECK (credits_per_period > 0),
                price_cents INTEGER NOT NULL,
                currency TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('incomplete', 'active', 'past_due', 'canceled')),
                payment_method TEXT NOT NULL,
                payment_token TEXT,
                gateway TEXT NOT NULL,
                anchor \(unsafeRaw: d.timestampType) NOT NULL,
                period_index INTEGER NOT NULL DEFAULT 0,
                current_period_start \(unsafeRaw: d.timestampType) NOT NULL,
                current_period_end \(unsafeRaw: d.timestampType) NOT NULL,
                cancel_at_period_end \(unsafeRaw: d.boolType) NOT NULL DEFAULT \(unsafeRaw: d == .postgres ? "FALSE" : "0"),
                pending_plan_id TEXT,
                failed_attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at \(unsafeRaw: d.timestampType),
                creation_key TEXT NOT NULL UNIQUE,
                gateway_subscription_id TEXT UNIQUE,
                gateway_item_id TEXT,
                last_event_at INTEGER NOT NULL DEFAULT 0,
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                updated_at \(unsafeRaw: d.timestampType) NOT NULL,
                canceled_at \(unsafeRaw: d.timestampType)
            )
            """,
            // At most one live subscription per user, claimed by the INSERT before the gateway is called.
            "CREATE UNIQUE INDEX subscriptions_live_user ON subscriptions (user_id) WHERE status IN ('incomplete', 'active', 'past_due')",
            "CREATE INDEX subscriptions_user ON subscriptions (user_id, created_at)",
            "CREATE INDEX subscriptions_due ON subscriptions (next_attempt_at) WHERE status IN ('active', 'past_due')",
            // Stripe Billing: one Customer per user, created once.
            "ALTER TABLE users ADD COLUMN stripe_customer_id TEXT",
            "CREATE UNIQUE INDEX users_stripe_customer ON users (stripe_customer_id)",
            // A charge for a subscription names its period and attempt; its gateway key is derived from them.
            "ALTER TABLE payments ADD COLUMN subscription_id \(unsafeRaw: d.uuidType)",
            "ALTER TABLE payments ADD COLUMN period_index INTEGER",
            "ALTER TABLE payments ADD COLUMN period_start \(unsafeRaw: d.timestampType)",
            "ALTER TABLE payments ADD COLUMN period_end \(unsafeRaw: d.timestampType)",
            "ALTER TABLE payments ADD COLUMN attempt INTEGER",
            // One grant per subscription and period, written with its ledger row: the exactly-once key of renewals,
            // whatever the attempts, instances or webhooks that paid for it.
            """
            CREATE TABLE subscription_grants (
                subscription_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES subscriptions (id),
                period_index INTEGER NOT NULL,
                payment_id \(unsafeRaw: d.uuidType) NOT NULL UNIQUE REFERENCES payments (id),
                transaction_id \(unsafeRaw: d.uuidType) UNIQUE REFERENCES credit_transactions (id),
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                PRIMARY KEY (subscription_id, period_index)
            )
            """,
            // Stripe (since 2025-03-31.basil) names no invoice on a Charge: `invoice_payment.paid` tells which
            // PaymentIntent paid which invoice, so that a refund of that intent finds the invoice's payment.
            """
            CREATE TABLE stripe_invoice_intents (
                intent_id TEXT PRIMARY KEY,
                invoice_id TEXT NOT NULL,
                received_at \(unsafeRaw: d.timestampType) NOT NULL
            )
            """,
            "CREATE INDEX stripe_invoice_intents_invoice ON stripe_invoice_intents (invoice_id)",
            // As for purchases (V007): one `subscription` row per gateway payment.
            """
            CREATE UNIQUE INDEX credit_transactions_subscription_payment
                ON credit_transactions (\(d.jsonText("extra_data", "gateway")), \(d.jsonText("extra_data", "gateway_payment_id")))
                WHERE transaction_type = \(literal: CreditLedger.TransactionType.subscription.rawValue)
            """,
        ]
    }
}
