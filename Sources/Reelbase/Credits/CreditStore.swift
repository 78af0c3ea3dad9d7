import Foundation
import SQLKit

/// A wallet's balance and what it is made of (API.md: every row counts in exactly one total).
struct WalletTotals: Sendable, Equatable, Decodable {
    var balance: Int
    var earned: Int
    var spent: Int
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
    func totals(userID: UUID) async throws -> WalletTotals?
    /// Newest first; `page` counts from 1.
    func history(userID: UUID, type: CreditLedger.TransactionType?, page: Int, pageSize: Int) async throws -> LedgerPage
    /// Grants credits as a `bonus` row, recorded in the moderation log as `adminID`'s; throws
    /// ``LedgerError/unknownUser`` for an unknown user.
    func grant(_ movement: CreditLedger.Movement, by adminID: UUID) async throws -> LedgerRow
    /// Recomputes every balance and running sum from the ledger rows alone.
    func audit() async throws -> (usersChecked: Int, mismatches: [CreditLedger.Mismatch])
}

struct SQLCreditStore: CreditStore {
    let database: Database
    let ledger: CreditLedger

    /// One statement, so the balance and the totals come from the same snapshot.
    /// Purchases, bonuses and card refunds (negative `refund`) are earned; usage and refunds of failed effects
    /// (positive `refund`) are spent.
    func totals(userID: UUID) async throws -> WalletTotals? {
        typealias Kind = CreditLedger.TransactionType
        return try await self.database.sql.raw(
            """
            SELECT u.credits AS balance,
                COALESCE(SUM(CASE WHEN t.transaction_type IN (\(literals: [Kind.purchase.rawValue, Kind.bonus.rawValue], joinedBy: ", "))
                                    OR (t.transaction_type = \(literal: Kind.refund.rawValue) AND t.credits < 0) THEN t.credits END), 0) AS earned,
                COALESCE(SUM(CASE WHEN t.transaction_type = \(literal: Kind.usage.rawValue)
                                    OR (t.transaction_type = \(literal: Kind.refund.rawValue) AND t.credits > 0) THEN -t.credits END), 0) AS spent
            FROM users u LEFT JOIN credit_transactions t ON t.user_id = u.id
            WHERE u.id = \(bind: userID)
            GROUP BY u.id, u.credits
            """
        ).first(decoding: WalletTotals.self)
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

    func grant(_ movement: CreditLedger.Movement, by adminID: UUID) async throws -> LedgerRow {
        let log = ModerationLog(dialect: self.database.dialect)
        return try await self.database.transaction { connection in
            let entry = try await self.ledger.apply(movement, on: connection)
            try await log.record(
                .init(
                    actorID: adminID, action: .grantCredits, targetType: .user, targetID: movement.userID,
                    note: "\(movement.credits) credits: \(movement.description)"),
                on: connection)
            guard
                let row = try await connection.raw("SELECT \(LedgerRow.columns) FROM credit_transactions WHERE id = \(bind: entry.id)")
                    .first(decoding: LedgerRow.self)
            else { throw UnexpectedRow("the ledger row \(entry.id) just written is missing") }
            return row
        }
    }

    func audit() async throws -> (usersChecked: Int, mismatches: [CreditLedger.Mismatch]) {
        try await self.ledger.audit(on: self.database.sql)
    }
}
