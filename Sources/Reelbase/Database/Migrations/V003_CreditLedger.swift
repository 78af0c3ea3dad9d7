import SQLKit

extension Migration {
    static let creditLedger = Migration(version: 3, name: "credit ledger, payments, idempotency keys") { d in
        [
            // The seed's table, plus `sequence`: the per-user order in which rows were written.
            creditTransactionsTable(d, named: "credit_transactions", types: ["purchase", "usage", "refund", "bonus"]),
        ] + creditTransactionsIndexes + d.appendOnly(table: "credit_transactions") + [
            // Idempotency-Key records: claimed before the work starts, answered from `response_body` once done.
            """
            CREATE TABLE idempotency_keys (
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                scope TEXT NOT NULL,
                key TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                response_status INTEGER,
                response_body TEXT,
                locked_until \(unsafeRaw: d.timestampType),
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                PRIMARY KEY (user_id, scope, key)
            )
            """,
            "CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)",
            // One row per attempt to take money; `credited_transaction_id` is set exactly once.
            """
            CREATE TABLE payments (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                package_id TEXT NOT NULL,
                credits INTEGER NOT NULL,
                amount_cents INTEGER NOT NULL,
                currency TEXT NOT NULL,
                payment_method TEXT NOT NULL,
                gateway TEXT NOT NULL,
                gateway_payment_id TEXT,
                status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
                credited_transaction_id \(unsafeRaw: d.uuidType),
                refunded_cents INTEGER NOT NULL DEFAULT 0,
                refunded_credits INTEGER NOT NULL DEFAULT 0,
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                updated_at \(unsafeRaw: d.timestampType) NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX payments_gateway_payment ON payments (gateway, gateway_payment_id)",
            "CREATE INDEX payments_user ON payments (user_id, created_at)",
        ]
    }

    /// `credit_transactions` as V003 made it, accepting `types`; V013 makes it again with more of them (on SQLite).
    static func creditTransactionsTable(_ d: SQLDialectKind, named name: String, types: [String]) -> SQLQueryString {
        """
        CREATE TABLE \(ident: name) (
            id \(unsafeRaw: d.uuidType) PRIMARY KEY,
            user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
            sequence \(unsafeRaw: d.bigintType) NOT NULL,
            transaction_type VARCHAR(20) NOT NULL \(creditTransactionsTypeCheck(types)),
            credits INTEGER NOT NULL CHECK (credits <> 0),
            balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
            description VARCHAR(500) NOT NULL,
            extra_data \(unsafeRaw: d.jsonType),
            created_at \(unsafeRaw: d.timestampType) NOT NULL
        )
        """
    }

    static func creditTransactionsTypeCheck(_ types: [String]) -> SQLQueryString {
        "CHECK (transaction_type IN (\(literals: types, joinedBy: ", ")))"
    }

    static let creditTransactionsIndexes: [SQLQueryString] = [
        "CREATE UNIQUE INDEX credit_transactions_user_sequence ON credit_transactions (user_id, sequence)",
        "CREATE INDEX credit_transactions_user_type ON credit_transactions (user_id, transaction_type, sequence)",
        "CREATE INDEX idx_credit_transactions_created_at ON credit_transactions (created_at)",
    ]
}
