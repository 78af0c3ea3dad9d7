import Foundation
import Logging
import SQLKit

/// The bonuses a referred user's first credited payment pays (API.md, "Referrals"), in that payment's transaction.
struct ReferralRewards: Sendable {
    let dialect: SQLDialectKind
    let ledger: CreditLedger
    /// Credits for the referrer; 0: none.
    var rewardCredits = 100
    /// Credits for the referred user; 0: none.
    var welcomeCredits = 50
    /// Rewards a referrer gets per UTC month of crediting.
    var monthlyLimit = 20
    /// Days the bonuses' lots last; `nil`: they never expire.
    var bonusTTLDays: Int? = nil

    private struct Parties: Decodable {
        var referrerID: UUID
        var referrerName: String
        var referrerSuspendedAt: Date?
        var referredName: String
        enum CodingKeys: String, CodingKey {
            case referrerID = "referrer_id"
            case referrerName = "referrer_name"
            case referrerSuspendedAt = "referrer_suspended_at"
            case referredName = "referred_name"
        }
    }

    /// Pays the bonuses if `payment` is its user's first credited one and they were referred. `alreadyRefunded`: a
    /// refund was recorded on it before it was credited, so it qualifies for nothing, and no later payment does either.
    func paymentCredited(_ payment: PaymentStore.Row, alreadyRefunded: Bool, on connection: any SQLDatabase) async throws {
        guard
            let parties = try await connection.raw(
                """
                SELECT r.id AS referrer_id, r.username AS referrer_name,
                       r.suspended_at AS referrer_suspended_at, u.username AS referred_name
                FROM users u JOIN users r ON r.id = u.referred_by WHERE u.id = \(bind: payment.userID)
                """
            ).first(decoding: Parties.self)
        else { return }
        // The primary key on the referred user is the once: of concurrent first payments one inserts the row
        // (PostgreSQL makes the others wait for it, then do nothing), and every later payment finds it.
        guard
            try await connection.raw(
                """
                INSERT INTO referrals (referred_id, referrer_id, payment_id, qualified_at, disqualified)
                VALUES (\(bind: payment.userID), \(bind: parties.referrerID), \(bind: payment.id), \(self.dialect.now), \(bind: alreadyRefunded))
                ON CONFLICT DO NOTHING
                RETURNING referred_id
                """
            ).first() != nil, !alreadyRefunded
        else { return }
        let expiresAt = self.bonusTTLDays.map { Date().addingTimeInterval(Double($0) * 86_400) }
        if self.rewardCredits > 0, parties.referrerSuspendedAt == nil, try await self.rewardsThisMonth(of: parties.referrerID, on: connection) < self.monthlyLimit {
            let reward = try await self.pay(
                self.rewardCredits, to: parties.referrerID, "Referral reward: \(parties.referredName) joined",
                recordedIn: "reward_transaction_id", for: payment.userID, expiresAt: expiresAt, on: connection)
            try await NotificationWriter(dialect: self.dialect).write(
                NewNotification(recipientID: parties.referrerID, kind: .referralRewarded, actorID: payment.userID, credits: reward.credits),
                on: connection)
        }
        if self.welcomeCredits > 0 {
            _ = try await self.pay(
                self.welcomeCredits, to: payment.userID, "Welcome bonus: invited by \(parties.referrerName)",
                recordedIn: "welcome_transaction_id", for: payment.userID, expiresAt: expiresAt, on: connection)
        }
    }

    /// One bonus row, recorded in the referred user's `referrals` row.
    private func pay(
        _ credits: Int, to userID: UUID, _ description: String, recordedIn column: String, for referredID: UUID, expiresAt: Date?,
        on connection: any SQLDatabase
    ) async throws -> CreditLedger.Entry {
        let entry = try await self.ledger.apply(
            CreditLedger.Movement(
                userID: userID, type: .bonus, credits: credits, description: description,
                extraData: ["referred_user_id": referredID.lowercased], expiresAt: expiresAt),
            on: connection)
        try await connection.raw("UPDATE referrals SET \(ident: column) = \(bind: entry.id) WHERE referred_id = \(bind: referredID)").run()
        return entry
    }

    /// What a qualifying payment paid, read as a refund reverses it.
    private struct Paid: Decodable {
        var referredID: UUID
        var referrerID: UUID
        var rewardTransactionID: UUID?
        var welcomeTransactionID: UUID?
        enum CodingKeys: String, CodingKey {
            case referredID = "referred_id"
            case referrerID = "referrer_id"
            case rewardTransactionID = "reward_transaction_id"
            case welcomeTransactionID = "welcome_transaction_id"
        }
    }

    /// Takes both bonuses back the first time a refund (of any amount) is recorded on the payment that paid them; the
    /// referred user keeps their `referrals` row, so no later payment qualifies. Runs before the card refund takes its
    /// credits, so that each bonus comes back out of the lot it opened rather than the card refund emptying that lot
    /// first. Setting `reversed_at` is the once: a replayed or later refund finds it set.
    func paymentRefunded(_ paymentID: UUID, on connection: any SQLDatabase, logger: Logger) async throws {
        guard
            let paid = try await connection.raw(
                """
                UPDATE referrals SET reversed_at = \(self.dialect.now)
                WHERE payment_id = \(bind: paymentID) AND reversed_at IS NULL AND disqualified = \(bind: false)
                RETURNING referred_id, referrer_id, reward_transaction_id, welcome_transaction_id
                """
            ).first(decoding: Paid.self)
        else { return }
        if let reward = paid.rewardTransactionID {
            try await self.reverse(reward, of: paid.referrerID, referredID: paid.referredID, on: connection, logger: logger)
        }
        if let welcome = paid.welcomeTransactionID {
            try await self.reverse(welcome, of: paid.referredID, referredID: paid.referredID, on: connection, logger: logger)
        }
    }

    private struct Bonus: Decodable {
        var credits: Int
        var description: String
        /// What is left in the lot the bonus opened, after its owner's overdue lots expired.
        var remaining: Int
    }

    /// One negative `bonus` row taking back what is left of `bonusID`'s own lot; what was spent or expired already is
    /// the shortfall, recorded on the row (or, when nothing is left, only logged: a ledger row moves at least one credit).
    private func reverse(_ bonusID: UUID, of userID: UUID, referredID: UUID, on connection: any SQLDatabase, logger: Logger) async throws {
        try await self.ledger.expireOverdueLots(of: userID, on: connection)
        guard
            let bonus = try await connection.raw(
                """
                SELECT t.credits, t.description, COALESCE(l.remaining, 0) AS remaining
                FROM credit_transactions t LEFT JOIN credit_lots l ON l.transaction_id = t.id
                WHERE t.id = \(bind: bonusID)
                """
            ).first(decoding: Bonus.self)
        else { throw UnexpectedRow("the referral bonus \(bonusID.lowercased) has no ledger row") }
        let taken = min(bonus.credits, bonus.remaining), shortfall = bonus.credits - taken
        guard taken > 0 else {
            logger.notice(
                "referral bonus already spent when reversed",
                metadata: ["transaction_id": .string(bonusID.lowercased), "shortfall": .stringConvertible(shortfall)])
            return
        }
        _ = try await self.ledger.apply(
            CreditLedger.Movement(
                userID: userID, type: .bonus, credits: -taken, description: "Reversed: \(bonus.description)",
                extraData: [
                    "referred_user_id": referredID.lowercased, "reversed_transaction_id": bonusID.lowercased,
                    "wanted": String(bonus.credits), "shortfall": String(shortfall),
                ],
                // Its own lot holds at least `taken`, so the draw takes nothing from any other.
                undoing: bonusID),
            on: connection)
    }

    /// The referrer's rewards paid since the start of this UTC month, counted under a lock on the referrer's row so
    /// that concurrent qualifications of their referrals count one after the other.
    private func rewardsThisMonth(of referrerID: UUID, on connection: any SQLDatabase) async throws -> Int {
        let lock: SQLQueryString = "SELECT id FROM users WHERE id = \(bind: referrerID)"
        if let locking = self.dialect.locking(lock, .counterUpdate) { try await connection.raw(locking).run() }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let monthStart = calendar.dateInterval(of: .month, for: Date())?.start ?? Date()
        return try await connection.raw(
            """
            SELECT COUNT(*) AS n FROM referrals
            WHERE referrer_id = \(bind: referrerID) AND reward_transaction_id IS NOT NULL AND qualified_at >= \(bind: monthStart)
            """
        ).first(decodingColumn: "n", as: Int.self) ?? 0
    }
}
