import SQLKit

extension Migration {
    static let stripePayments = Migration(version: 5, name: "stripe webhook events") { d in
        [
            // Every verified webhook event id, so a replay changes nothing.
            """
            CREATE TABLE webhook_events (
                id TEXT PRIMARY KEY,
                type TEXT NOT NULL,
                received_at \(unsafeRaw: d.timestampType) NOT NULL
            )
            """
        ]
    }
}
