import Foundation
import SQLKit

/// Promo codes: admins create and end them, users redeem them once each for a `bonus` row.
protocol PromoStore: Sendable {
    /// Throws ``PromoError/codeTaken``. Recorded in the moderation log as `adminID`'s.
    func create(_ code: NewPromoCode, by adminID: UUID) async throws -> PromoCode
    /// Newest first.
    func page(after: FeedCursor?, limit: Int) async throws -> Page<PromoCode>
    /// Sets when `code` stops being redeemable; throws ``PromoError/notFound``. Recorded in the moderation log.
    func setExpiry(of code: String, to expiresAt: Date, by adminID: UUID) async throws -> PromoCode
    /// Redeems `code` (normalized, see ``NewPromoCode/normalized(_:)``) for `userID` on `connection`, inside the
    /// caller's write transaction. Throws ``PromoError`` in API.md's order of checks, and ``LedgerError`` when the
    /// credits would pass ``CreditLedger/grantBalanceLimit``.
    func redeem(_ code: String, for userID: UUID, on connection: any SQLDatabase) async throws -> PromoRedemption
}

struct SQLPromoStore: PromoStore {
    let database: Database
    let ledger: CreditLedger

    private var dialect: SQLDialectKind { self.database.dialect }

    func create(_ code: NewPromoCode, by adminID: UUID) async throws -> PromoCode {
        try await self.database.transaction { connection in
            guard
                let created = try await connection.raw(
                    """
                    INSERT INTO promo_codes (id, code, credits, max_redemptions, expires_at, credits_ttl_days, credits_expire_at,
                                             created_by, created_at)
                    VALUES (\(bind: UUID()), \(bind: code.code), \(bind: code.credits), \(bind: code.maxRedemptions),
                            \(bind: code.expiresAt), \(bind: code.creditsTTLDays), \(bind: code.creditsExpireAt), \(bind: adminID),
                            \(self.dialect.now))
                    ON CONFLICT (code) DO NOTHING
                    RETURNING \(PromoCode.columns(self.dialect))
                    """
                ).first(decoding: PromoCode.self)
            else { throw PromoError.codeTaken }
            try await self.log(.createPromoCode, created, note: "\(created.code): \(created.credits) credits", by: adminID, on: connection)
            return created
        }
    }

    func page(after: FeedCursor?, limit: Int) async throws -> Page<PromoCode> {
        var query: SQLQueryString = "SELECT \(PromoCode.columns(self.dialect)) FROM promo_codes"
        if let after {
            query = query + " WHERE (created_at, id) < (\(self.dialect.instant(exact: after.instant)), \(bind: after.id))"
        }
        query = query + " ORDER BY created_at DESC, id DESC \(limit: limit + 1)"
        return Page(rows: try await self.database.sql.raw(query).all(decoding: PromoCode.self), limit: limit, key: \.cursor)
    }

    func setExpiry(of code: String, to expiresAt: Date, by adminID: UUID) async throws -> PromoCode {
        try await self.database.transaction { connection in
            guard
                let changed = try await connection.raw(
                    """
                    UPDATE promo_codes SET expires_at = \(bind: expiresAt) WHERE code = \(bind: code)
                    RETURNING \(PromoCode.columns(self.dialect))
                    """
                ).first(decoding: PromoCode.self)
            else { throw PromoError.notFound }
            try await self.log(
                .setPromoCodeExpiry, changed, note: "\(changed.code): expires \(expiresAt.formatted(.iso8601))", by: adminID, on: connection)
            return changed
        }
    }

    /// A code as a redemption reads it: with whether the caller redeemed it already and whether it is past its end,
    /// both by the database's clock, the one lots expire by.
    private struct Candidate: Decodable {
        var code: PromoCode
        var redeemedByCaller: Int
        var ended: Int

        enum CodingKeys: String, CodingKey {
            case redeemedByCaller = "redeemed_by_caller"
            case ended
        }

        init(from decoder: any Decoder) throws {
            self.code = try PromoCode(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.redeemedByCaller = try container.decode(Int.self, forKey: .redeemedByCaller)
            self.ended = try container.decode(Int.self, forKey: .ended)
        }
    }

    /// A code has ended once its `expires_at` passed, and also once the fixed expiry of its credits did: what it
    /// would grant then is already expired.
    private var hasEnded: SQLQueryString {
        // `IS NOT NULL AND`: a comparison with NULL is NULL, and `NOT NULL` would refuse every open code.
        """
        ((expires_at IS NOT NULL AND expires_at <= \(self.dialect.now))
         OR (credits_expire_at IS NOT NULL AND credits_expire_at <= \(self.dialect.now)))
        """
    }

    /// The checks read the code first, in API.md's order; the counter's conditional `UPDATE` is what makes
    /// `max_redemptions` exact (concurrent redemptions of one code queue on its row, and each re-checks the count
    /// it finds), and the redemption's primary key what makes "once per user" exact.
    func redeem(_ code: String, for userID: UUID, on connection: any SQLDatabase) async throws -> PromoRedemption {
        guard
            let candidate = try await connection.raw(
                """
                SELECT \(PromoCode.columns(self.dialect)),
                    (SELECT COUNT(*) FROM promo_redemptions r WHERE r.promo_code_id = promo_codes.id AND r.user_id = \(bind: userID))
                        AS redeemed_by_caller,
                    CASE WHEN \(self.hasEnded) THEN 1 ELSE 0 END AS ended
                FROM promo_codes WHERE code = \(bind: code)
                """
            ).first(decoding: Candidate.self)
        else { throw PromoError.notFound }
        guard candidate.redeemedByCaller == 0 else { throw PromoError.alreadyRedeemed }
        guard candidate.ended == 0 else { throw PromoError.expired }
        guard
            let promo = try await connection.raw(
                """
                UPDATE promo_codes SET redemptions = redemptions + 1
                WHERE id = \(bind: candidate.code.id) AND (max_redemptions IS NULL OR redemptions < max_redemptions)
                  AND NOT \(self.hasEnded)
                RETURNING \(PromoCode.columns(self.dialect))
                """
            ).first(decoding: PromoCode.self)
        else {
            // Ended while this request waited for the row, or every redemption is taken.
            let ended = try await connection.raw("SELECT id FROM promo_codes WHERE id = \(bind: candidate.code.id) AND \(self.hasEnded)").first()
            throw ended == nil ? PromoError.exhausted : PromoError.expired
        }
        let expiresAt = promo.creditsExpiry(redeemedAt: Date())
        let entry = try await self.ledger.apply(
            CreditLedger.Movement(
                userID: userID, type: .bonus, credits: promo.credits,
                description: "Promo code \(promo.code) (\(promo.credits) credits)",
                extraData: ["promo_code": promo.code], expiresAt: expiresAt, balanceLimit: CreditLedger.grantBalanceLimit),
            on: connection)
        // A concurrent redemption by the same user passed the first check too; the key lets one of them through.
        guard
            try await connection.raw(
                """
                INSERT INTO promo_redemptions (promo_code_id, user_id, transaction_id, created_at)
                VALUES (\(bind: promo.id), \(bind: userID), \(bind: entry.id), \(self.dialect.now))
                ON CONFLICT (promo_code_id, user_id) DO NOTHING
                RETURNING user_id
                """
            ).first() != nil
        else { throw PromoError.alreadyRedeemed }
        return PromoRedemption(entry: entry, expiresAt: expiresAt)
    }

    private func log(_ action: ModerationAction, _ code: PromoCode, note: String, by adminID: UUID, on connection: any SQLDatabase) async throws {
        try await ModerationLog(dialect: self.dialect).record(
            .init(actorID: adminID, action: action, targetType: .promoCode, targetID: code.id, note: note), on: connection)
    }
}
