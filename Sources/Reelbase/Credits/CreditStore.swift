import Foundation
import SQLKit

/// A wallet's balance and what it is made of (API.md: every row counts in exactly one total).
struct WalletTotals: Sendable, Equatable, Decodable {
    var balance: Int
    var earned: Int
    var spent: Int
    var expired: Int
}

/// Credits of one lot that will expire (`GET /v1/credits/balance`'s `expiring`).
struct ExpiringCredits: Sendable, Equatable, Codable {
    var credits: Int
    var expiresAt: Date

    enum CodingKeys: String, CodingKey {
        case credits
        case expiresAt = "expires_at"
    }
}

/// A wallet as `GET /v1/credits/balance` shows it.
struct Wallet: Sendable, Equatable {
    var totals: WalletTotals
    /// Soonest first, at most ``SQLCreditStore/expiringShown``.
    var expiring: [ExpiringCredits]
}

/// A grant's ledger row and when its lot expires (`nil`: never).
struct Grant: Sendable {
    var row: LedgerRow
    var expiresAt: Date?
}

/// One ledger row, read from the database and shown as is in the history (the seed's shape).
struct LedgerRow: Sendable, Equatable, Codable {
    var id: UUID
    var transactionType: CreditLedger.TransactionType
    var credits: Int
    var balanceAfter: Int
    var description: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, credits, description
        case transactionType = "transaction_type"
        case balanceAfter = "balance_after"
        case createdAt = "created_at"
    }

    static let columns: SQLQueryString = "id, transaction_type, credits, balance_after, description, created_at"

    func encode(to encoder: any Encoder) throws {
        var json = encoder.container(keyedBy: CodingKeys.self)
        try json.encode(self.id.lowercased, forKey: .id)
        try json.encode(self.transactionType, forKey: .transactionType)
        try json.encode(self.credits, forKey: .credits)
        try json.encode(self.balanceAfter, forKey: .balanceAfter)
        try json.encode(self.description, forKey: .description)
        try json.encode(self.createdAt, forKey: .createdAt)
    }
}

/// One page of a wallet's history, and how many rows match in all.
struct LedgerPage: Sendable {
    var rows: [LedgerRow]
    var total: Int
}

/// Reads of the wallet, and the grants of administrators.
protocol CreditStore: Sendable {
    /// `nil` for an unknown user.
    func wallet(userID: UUID) async throws -> Wallet?
    /// Newest first; `page` counts from 1.
    func history(userID: UUID, type: CreditLedger.TransactionType?, page: Int, pageSize: Int) async throws -> LedgerPage
    /// Grants credits as a `bonus` row on `connection` (inside the caller's write transaction), recorded in the
    /// moderation log as `adminID`'s; throws ``LedgerError/unknownUser`` for an unknown user and
    /// ``LedgerError/balanceLimit(limit:balance:)`` when the movement's limit would be passed.
    func grant(_ movement: CreditLedger.Movement, by adminID: UUID, on connection: any SQLDatabase) async throws -> Grant
    /// Recomputes every balance, running sum and lot, and lists lots left unexpired for more than two sweeps.
    func audit() async throws -> CreditLedger.AuditReport
}

struct SQLCreditStore: CreditStore {
    let database: Database
    let ledger: CreditLedger
    /// The expiry sweeper's interval: a lot still holding credits two of them past its expiry is reported.
    let sweepInterval: Duration

    /// API.md: the balance lists at most 10 expiring lots.
    static let expiringShown = 10

    /// The balance, its totals and the expiring lots in one statement, so they come from one snapshot and one round
    /// trip: a row per expiring lot (at most ``expiringShown``), or one row without a lot. Purchases, bonuses,
    /// subscription credits and card refunds (negative `refund`) are earned; usage and refunds of failed effects
    /// (positive `refund`) are spent; `expiry` rows are expired.
    func wallet(userID: UUID) async throws -> Wallet? {
        typealias Kind = CreditLedger.TransactionType
        let earnedTypes = [Kind.purchase, .bonus, .subscription].map(\.rawValue)
        let rows = try await self.database.sql.raw(
            """
            SELECT totals.balance, totals.earned, totals.spent, totals.expired, lots.credits, lots.expires_at
            FROM (
                SELECT u.credits AS balance,
                    COALESCE(SUM(CASE WHEN t.transaction_type IN (\(literals: earnedTypes, joinedBy: ", "))
                                        OR (t.transaction_type = \(literal: Kind.refund.rawValue) AND t.credits < 0) THEN t.credits END), 0) AS earned,
                    COALESCE(SUM(CASE WHEN t.transaction_type = \(literal: Kind.usage.rawValue)
                                        OR (t.transaction_type = \(literal: Kind.refund.rawValue) AND t.credits > 0) THEN -t.credits END), 0) AS spent,
                    COALESCE(SUM(CASE WHEN t.transaction_type = \(literal: Kind.expiry.rawValue) THEN -t.credits END), 0) AS expired
                FROM users u LEFT JOIN credit_transactions t ON t.user_id = u.id
                WHERE u.id = \(bind: userID)
                GROUP BY u.id, u.credits
            ) AS totals LEFT JOIN (
                SELECT remaining AS credits, expires_at, created_at FROM credit_lots
                WHERE user_id = \(bind: userID) AND NOT depleted AND expires_at IS NOT NULL
                ORDER BY expires_at, created_at \(limit: Self.expiringShown)
            ) AS lots ON 1 = 1
            ORDER BY lots.expires_at, lots.created_at
            """
        ).all(decoding: WalletRow.self)
        guard let first = rows.first else { return nil }
        return Wallet(totals: first.totals, expiring: rows.compactMap(\.lot))
    }

    /// One row of ``wallet(userID:)``: the totals, and one expiring lot or none.
    private struct WalletRow: Decodable {
        var totals: WalletTotals
        var lot: ExpiringCredits?

        init(from decoder: any Decoder) throws {
            self.totals = try WalletTotals(from: decoder)
            let lot = try decoder.container(keyedBy: ExpiringCredits.CodingKeys.self)
            self.lot = try lot.decodeNil(forKey: .credits) ? nil : ExpiringCredits(from: decoder)
        }
    }

    /// Newest first in the order rows were written (the per-user sequence), not by timestamp.
    func history(userID: UUID, type: CreditLedger.TransactionType?, page: Int, pageSize: Int) async throws -> LedgerPage {
        let filter: SQLQueryString = type.map { "AND transaction_type = \(bind: $0.rawValue)" } ?? ""
        let total = try await self.database.sql.raw(
            "SELECT COUNT(*) AS total FROM credit_transactions WHERE user_id = \(bind: userID) \(filter)"
        ).first(decodingColumn: "total", as: Int.self) ?? 0
        let rows = try await self.database.sql.raw(
            """
            SELECT \(LedgerRow.columns) FROM credit_transactions
            WHERE user_id = \(bind: userID) \(filter)
            ORDER BY sequence DESC
            \(limit: pageSize) OFFSET \(bind: (page - 1) * pageSize)
            """
        ).all(decoding: LedgerRow.self)
        return LedgerPage(rows: rows, total: total)
    }

    func grant(_ movement: CreditLedger.Movement, by adminID: UUID, on connection: any SQLDatabase) async throws -> Grant {
        let entry = try await self.ledger.apply(movement, on: connection)
        try await ModerationLog(dialect: self.database.dialect).record(
            .init(
                actorID: adminID, action: .grantCredits, targetType: .user, targetID: movement.userID,
                note: "\(movement.credits) credits: \(movement.description)"),
            on: connection)
        guard
            let row = try await connection.raw("SELECT \(LedgerRow.columns) FROM credit_transactions WHERE id = \(bind: entry.id)")
                .first(decoding: LedgerRow.self)
        else { throw UnexpectedRow("the ledger row \(entry.id) just written is missing") }
        return Grant(row: row, expiresAt: movement.expiresAt)
    }

    func audit() async throws -> CreditLedger.AuditReport {
        try await self.ledger.audit(on: self.database.sql, overdueAfter: self.sweepInterval * 2)
    }
}
