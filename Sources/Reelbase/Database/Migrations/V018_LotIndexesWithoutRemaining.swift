import SQLKit

extension Migration {
    /// Every spend updates its lot's `remaining`. PostgreSQL can update a row in place (a HOT update: no new index
    /// entries) only when no indexed column changes, and the columns of a partial index's predicate count: with
    /// `WHERE remaining > 0` on three indexes, every spend wrote a new entry in all five of the table's indexes, and a
    /// busy wallet's lot left thousands of dead entries that each lot read walked (effect jobs −31 % against the build
    /// before lots, falling round after round). The indexes now test `depleted`, computed from `remaining` by the
    /// database, which changes only when a lot empties or refills: spends that leave credits in the lot are HOT again.
    /// SQLite, which has no such rule, gets the same column (virtual) and indexes, so both run the same statements.
    static let lotIndexesWithoutRemaining = Migration(version: 18, name: "credit lots' indexes test depleted, not remaining") { d in
        [
            d == .postgres
                ? "ALTER TABLE credit_lots ADD COLUMN depleted BOOLEAN GENERATED ALWAYS AS (remaining = 0) STORED"
                : "ALTER TABLE credit_lots ADD COLUMN depleted INTEGER GENERATED ALWAYS AS (remaining = 0) VIRTUAL",
            "DROP INDEX credit_lots_user_open",
            "DROP INDEX credit_lots_expiring",
            "DROP INDEX credit_lots_unnoticed",
            // A user's lots still holding credits in spend order (soonest expiry, never-expiring last, oldest first):
            // a spend reads its first few straight off this index, however many lots the wallet holds.
            """
            CREATE INDEX credit_lots_user_open ON credit_lots (user_id, (expires_at IS NULL), expires_at, created_at, id)
            WHERE NOT depleted
            """,
            // What the sweeper expires.
            "CREATE INDEX credit_lots_expiring ON credit_lots (expires_at) WHERE NOT depleted AND expires_at IS NOT NULL",
            // What the notice pass looks for: lots holding credits, expiring, not noticed yet.
            """
            CREATE INDEX credit_lots_unnoticed ON credit_lots (expires_at)
            WHERE NOT depleted AND expires_at IS NOT NULL AND expiry_noticed_at IS NULL
            """,
        ]
    }
}
