import SQLKit

extension Migration {
    static let promoCodes = Migration(version: 14, name: "promo codes and their redemptions") { d in
        [
            // `code` is stored upper-case, so its unique key is the case-insensitive one API.md asks for. The
            // counter's CHECK is the last guard of `max_redemptions`: the redeeming UPDATE is conditional already.
            """
            CREATE TABLE promo_codes (
                id \(unsafeRaw: d.uuidType) PRIMARY KEY,
                code TEXT NOT NULL UNIQUE,
                credits INTEGER NOT NULL CHECK (credits > 0),
                max_redemptions INTEGER CHECK (max_redemptions > 0),
                redemptions INTEGER NOT NULL DEFAULT 0
                    CHECK (redemptions >= 0 AND (max_redemptions IS NULL OR redemptions <= max_redemptions)),
                expires_at \(unsafeRaw: d.timestampType),
                credits_ttl_days INTEGER CHECK (credits_ttl_days > 0),
                credits_expire_at \(unsafeRaw: d.timestampType),
                created_by \(unsafeRaw: d.uuidType) REFERENCES users (id),
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                CHECK (credits_ttl_days IS NULL OR credits_expire_at IS NULL)
            )
            """,
            "CREATE INDEX promo_codes_newest ON promo_codes (created_at, id)",
            // One row per user and code: the primary key is the "once per user" rule.
            """
            CREATE TABLE promo_redemptions (
                promo_code_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES promo_codes (id),
                user_id \(unsafeRaw: d.uuidType) NOT NULL REFERENCES users (id),
                transaction_id \(unsafeRaw: d.uuidType) NOT NULL UNIQUE REFERENCES credit_transactions (id),
                created_at \(unsafeRaw: d.timestampType) NOT NULL,
                PRIMARY KEY (promo_code_id, user_id)
            )
            """,
        ]
    }
}
