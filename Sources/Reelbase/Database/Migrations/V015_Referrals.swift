import Foundation
import SQLKit

extension Migration {
    static let referrals = Migration(
        version: 15, name: "referral codes, who referred whom, one referral per referred user",
        backfill: { connection, dialect in
            // Existing users get a code each; drawn in Swift, so that collisions are retried like at registration.
            let ids = try await connection.raw("SELECT id FROM users WHERE referral_code IS NULL ORDER BY id")
                .all(decodingColumn: "id", as: UUID.self)
            var taken = Set<String>()
            for id in ids {
                var code = ReferralCode.random()
                while !taken.insert(code).inserted { code = ReferralCode.random() }
                try await connection.raw("UPDATE users SET referral_code = \(bind: code) WHERE id = \(bind: id)").run()
            }
            // Every user has one now, so PostgreSQL can require it (SQLite's triggers, made before, already do).
            if dialect == .postgres {
                try await connection.raw("ALTER TABLE users ALTER COLUMN referral_code SET NOT NULL").run()
            }
        }
    ) { d in
        [
            "ALTER TABLE users ADD COLUMN referral_code TEXT",
            "ALTER TABLE users ADD COLUMN referred_by \(unsafeRaw: d.uuidType) REFERENCES users (id)",
            "CREATE UNIQUE INDEX users_referral_code_key ON users (referral_code)",
            // One row per referred user whose first paid purchase was credited: its primary key is what makes the
            // reward happen once. The bonus rows are NULL when none was paid (cap, suspended referrer, setting 0, a
            // refund recorded before the credit); `reversed_at` is set once a refund took them back.
            """
            CREATE TABLE referrals (
                referred_id \(unsafeRaw: d.uuidType) PRIMARY KEY REFERENCES users (id),
                referrer_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                payment_id \(unsafeRaw: d.uuidType) NOT NULL UNIQUE REFERENCES payments (id),
                reward_transaction_id \(unsafeRaw: d.uuidType) UNIQUE REFERENCES credit_transactions (id),
                welcome_transaction_id \(unsafeRaw: d.uuidType) UNIQUE REFERENCES credit_transactions (id),
                qualified_at \(unsafeRaw: d.timestampType) NOT NULL,
                disqualified \(unsafeRaw: d.boolType) NOT NULL DEFAULT \(unsafeRaw: d == .postgres ? "FALSE" : "0"),
                reversed_at \(unsafeRaw: d.timestampType)
            )
            """,
            // The monthly cap counts a referrer's rewards by month.
            "CREATE INDEX referrals_referrer ON referrals (referrer_id, qualified_at)",
        ] + (d == .sqlite ? sqliteReferralCodeRequired : [])
    }

    /// SQLite cannot add NOT NULL to a column of a table foreign keys point at, so triggers refuse a missing code
    /// (the backfill's UPDATE sets one, so it passes).
    private static let sqliteReferralCodeRequired: [SQLQueryString] = [
        """
        CREATE TRIGGER users_referral_code_insert BEFORE INSERT ON users WHEN new.referral_code IS NULL
        BEGIN SELECT RAISE(ABORT, 'users.referral_code is required'); END
        """,
        """
        CREATE TRIGGER users_referral_code_update BEFORE UPDATE OF referral_code ON users WHEN new.referral_code IS NULL
        BEGIN SELECT RAISE(ABORT, 'users.referral_code is required'); END
        """,
    ]
}
