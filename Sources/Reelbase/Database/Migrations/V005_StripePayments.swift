import SQLKit

extension Migration {
    static let stripePayments = Migration(version: 5, name: "stripe webhook events, refund shortfalls") { d in
        [
            // Every verified webhook event id, so a replay changes nothing.
            """
            CREATE TABLE webhook_events (
                id TEXT PRIMARY KEY,
                type TEXT NOT NULL,
                received_at \(unsafeRaw: d.timestampType) NOT NULL
            )
            """,
            // Credits a card refund should have taken back but could not, because the user had already spent them:
            // kept on the payment for review, since the ledger cannot hold a row of zero credits.
            "ALTER TABLE payments ADD COLUMN refund_shortfall_credits INTEGER NOT NULL DEFAULT 0",
        ]
    }
}
