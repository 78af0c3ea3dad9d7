import Foundation
import SQLKit

/// Reads of the wallet: balance with its totals, and the paged history.
protocol CreditStore: Sendable {
    func balance(userID: UUID) async throws -> BalanceResponse?
    func history(userID: UUID, query: HistoryQuery) async throws -> HistoryResponse
}

struct SQLCreditStore: CreditStore {
    let database: Database

    /// One statement, so the balance and the totals come from the same snapshot.
    /// Every row counts in exactly one total (API.md): purchases, bonuses and card refunds (negative `refund`)
    /// are earned; usage and refunds of failed effects (positive `refund`) are spent.
    func balance(userID: UUID) async throws -> BalanceResponse? {
        guard
            let row = try await self.database.sql.raw(
                """
                SELECT u.credits,
                    COALESCE(SUM(CASE WHEN t.transaction_type IN ('purchase', 'bonus')
                                        OR (t.transaction_type = 'refund' AND t.credits < 0) THEN t.credits END), 0) AS earned,
                    COALESCE(SUM(CASE WHEN t.transaction_type = 'usage'
                                        OR (t.transaction_type = 'refund' AND t.credits > 0) THEN -t.credits END), 0) AS spent
                FROM users u LEFT JOIN credit_transactions t ON t.user_id = u.id
                WHERE u.id = \(bind: userID)
                GROUP BY u.id, u.credits
                """
            ).first()
        else { return nil }
        return BalanceResponse(
            balance: try row.decode(column: "credits", as: Int.self),
            totalEarned: try row.decode(column: "earned", as: Int.self),
            totalSpent: try row.decode(column: "spent", as: Int.self)
        )
    }

    /// Newest first in the order rows were written (the per-user sequence), not by timestamp.
    func history(userID: UUID, query: HistoryQuery) async throws -> HistoryResponse {
        let filter: SQLQueryString = query.type.map { "AND transaction_type = \(bind: $0.rawValue)" } ?? ""
        let total = try await self.database.sql.raw(
            "SELECT COUNT(*) AS total FROM credit_transactions WHERE user_id = \(bind: userID) \(filter)"
        ).first()?.decode(column: "total", as: Int.self) ?? 0
        let rows = try await self.database.sql.raw(
            """
            SELECT \(LedgerRow.columns) FROM credit_transactions
            WHERE user_id = \(bind: userID) \(filter)
            ORDER BY sequence DESC
            LIMIT \(bind: query.pageSize) OFFSET \(bind: (query.page - 1) * query.pageSize)
            """
        ).all().map(LedgerRow.init(row:))
        return HistoryResponse(
            transactions: rows,
            total: total,
            page: query.page,
            pageSize: query.pageSize,
            hasMore: query.page * query.pageSize < total
        )
    }
}
