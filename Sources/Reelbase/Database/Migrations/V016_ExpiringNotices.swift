import SQLKit

extension Migration {
    static let expiringNotices = Migration(version: 16, name: "when each credit lot's credits_expiring notice was sent") { d in
        [
            // Set once, by the sweeper pass that writes the lot's `credits_expiring` notification, in the same
            // transaction and only where it is still NULL: the mark is what makes the notice once per lot.
            "ALTER TABLE credit_lots ADD COLUMN expiry_noticed_at \(unsafeRaw: d.timestampType)",
            // What the notice pass looks for: lots holding credits, expiring, not noticed yet.
            """
            CREATE INDEX credit_lots_unnoticed ON credit_lots (expires_at)
            WHERE remaining > 0 AND expires_at IS NOT NULL AND expiry_noticed_at IS NULL
            """,
        ]
    }
}
