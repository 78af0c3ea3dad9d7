import SQLKit

extension Migration {
    static let creditLots = Migration(version: 13, name: "credit lots and the draws on them; expiry and subscription rows") { d in
        // `expiry` and `subscription` join the ledger's row types. The values come from the enum, so the CHECK cannot
        // fall behind it again.
        let types = CreditLedger.TransactionType.allCases.map(\.rawValue)
        return d.replacingCheck(
            table: "credit_transactions", column: "transaction_type",
            definition: { creditTransactionsTable(d, named: $0, types: types) },
            check: creditTransactionsTypeCheck(types),
            // What V003 and V007 built on the table, which SQLite's copy must build again.
            rebuild: creditTransactionsIndexes + [purchasePaymentIndex(d)] + d.appendOnly(table: "credit_transactions")
        ) + [
            // Credits added by one ledger row, and what is left of them. `transaction_id` is NULL only for the lots
            // this migration opens for balances older than lots (no single row granted them).
            """
            CREATE TABLE credit_lots (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                transaction_id \(unsafeRaw: d.uuidType) UNIQUE REFERENCES credit_transactions (id),
                granted INTEGER NOT NULL CHECK (granted > 0),
                remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= granted),
                expires_at \(unsafeRaw: d.timestampType),
                created_at \(unsafeRaw: d.timestampType) NOT NULL
            )
            """,
            // A user's lots still holding credits: what a draw reads, in spend order.
            "CREATE INDEX credit_lots_user_open ON credit_lots (user_id, expires_at) WHERE remaining > 0",
            // What the sweeper looks for.
            "CREATE INDEX credit_lots_expiring ON credit_lots (expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL",
            // Which ledger row took how many credits from which lot: positive for a spend, card refund or expiry,
            // negative for a job refund returning them. So for every lot `remaining = granted - SUM(credits)`.
            """
            CREATE TABLE credit_lot_draws (
                transaction_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES credit_transactions (id),
                lot_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES credit_lots (id),
                credits INTEGER NOT NULL CHECK (credits <> 0),
                PRIMARY KEY (transaction_id, lot_id)
            )
            """,
            "CREATE INDEX credit_lot_draws_lot ON credit_lot_draws (lot_id)",
            // Balances from before lots: one never-expiring lot each, holding the whole balance. A user at 0 gets
            // none: the lots of a wallet add up to its balance, and no lots add up to 0 (a lot holds at least one
            // credit when opened).
            """
            INSERT INTO credit_lots (id, user_id, transaction_id, granted, remaining, expires_at, created_at)
            SELECT \(d.randomUUID), id, NULL, credits, credits, NULL, \(d.now) FROM users WHERE credits > 0
            """,
        ]
    }
}
