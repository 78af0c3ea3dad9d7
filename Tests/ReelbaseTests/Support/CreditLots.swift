import Foundation
import SQLKit
import Testing

@testable import Reelbase

/// One row of `credit_lots`, as tests read it.
struct LotRow: Decodable, Equatable, Sendable {
    var id: UUID
    var transactionID: UUID?
    var granted: Int
    var remaining: Int
    var expiresAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, granted, remaining
        case transactionID = "transaction_id"
        case expiresAt = "expires_at"
    }
}

/// Lots and ledger movements beneath the API, over the database a test shares with the app.
extension Reelbase.Database {
    var ledger: CreditLedger { CreditLedger(dialect: self.dialect) }

    /// Applies one movement in a transaction of its own, as a store would.
    @discardableResult
    func apply(_ movement: CreditLedger.Movement) async throws -> CreditLedger.Entry {
        try await self.transaction { try await self.ledger.apply(movement, on: $0) }
    }

    /// A `bonus` of `credits` described `description`, whose lot expires at `expiresAt` (`nil`: never).
    @discardableResult
    func bonus(_ credits: Int, to userID: UUID, _ description: String = "Gift", expiresAt: Date? = nil) async throws -> CreditLedger.Entry {
        try await self.apply(.init(userID: userID, type: .bonus, credits: credits, description: description, expiresAt: expiresAt))
    }

    /// A `usage` of `credits`.
    @discardableResult
    func spend(_ credits: Int, by userID: UUID) async throws -> CreditLedger.Entry {
        try await self.apply(.init(userID: userID, type: .usage, credits: -credits, description: "AI Glitch: Animate (\(credits) credits)"))
    }

    /// The user's lots, oldest first.
    func lots(of userID: UUID) async throws -> [LotRow] {
        try await self.sql.raw(
            """
            SELECT l.id, l.transaction_id, l.granted, l.remaining, l.expires_at
            FROM credit_lots l LEFT JOIN credit_transactions t ON t.id = l.transaction_id
            WHERE l.user_id = \(bind: userID) ORDER BY COALESCE(t.sequence, 0)
            """
        ).all(decoding: LotRow.self)
    }

    /// The lot the ledger row `transactionID` opened.
    func lot(openedBy transactionID: UUID) async throws -> LotRow? {
        try await self.sql.raw(
            "SELECT id, transaction_id, granted, remaining, expires_at FROM credit_lots WHERE transaction_id = \(bind: transactionID)"
        ).first(decoding: LotRow.self)
    }

    /// Moves the expiry of the lot `transactionID` opened to `ago` in the past: time travel for one lot.
    func backdateLot(openedBy transactionID: UUID, by ago: TimeInterval = 60) async throws {
        try await self.sql.raw(
            "UPDATE credit_lots SET expires_at = \(bind: Date().addingTimeInterval(-ago)) WHERE transaction_id = \(bind: transactionID)"
        ).run()
    }

    /// How many credits each lot gave to the ledger row `transactionID`, by lot id.
    func draws(by transactionID: UUID) async throws -> [UUID: Int] {
        struct Draw: Decodable {
            var lot_id: UUID
            var credits: Int
        }
        let rows = try await self.sql.raw("SELECT lot_id, credits FROM credit_lot_draws WHERE transaction_id = \(bind: transactionID)")
            .all(decoding: Draw.self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.lot_id, $0.credits) })
    }

    /// The user's ledger rows of `type`, in the order written.
    func rows(of userID: UUID, type: CreditLedger.TransactionType) async throws -> [LedgerRow] {
        try await self.sql.raw(
            """
            SELECT \(LedgerRow.columns) FROM credit_transactions
            WHERE user_id = \(bind: userID) AND transaction_type = \(bind: type.rawValue) ORDER BY sequence
            """
        ).all(decoding: LedgerRow.self)
    }

    /// The ledger audit run directly, with the default sweep interval.
    func audit() async throws -> CreditLedger.AuditReport {
        try await self.ledger.audit(on: self.sql, overdueAfter: .seconds(120))
    }
}

extension TestClient.User {
    var uuid: UUID {
        get throws { try #require(UUID(uuidString: self.id)) }
    }
}
