import Foundation
import Logging
import ServiceLifecycle
import SQLKit

/// Expires credit lots past their expiry: one `expiry` row per lot, every `EXPIRY_SWEEP_SECONDS`; and tells each lot's
/// owner once, `CREDITS_EXPIRING_NOTICE_SECONDS` ahead, that it is about to expire (`credits_expiring`).
///
/// Runs inside `serve` on every instance. Each batch claims its lots together with their owners' rows, skipping rows
/// another transaction holds (PostgreSQL: another sweeper's batch, or a spend of that user, which expires the lot
/// itself); on SQLite the write lock makes batches one at a time. A lot is expired only with what it holds when
/// claimed, and then holds nothing, so no credit is expired twice; a lot is noticed only by the transaction that sets
/// its `expiry_noticed_at` from NULL, so no lot is noticed twice.
struct CreditExpirySweeper: Service {
    let database: Database
    let ledger: CreditLedger
    let interval: Duration
    /// How long before a lot's expiry its owner is told; a lot granted for less is told at the next pass.
    var notice: Duration = .seconds(AppConfiguration().creditsExpiringNoticeSeconds)
    let logger: Logger

    /// Lots per transaction: short enough that a spend waiting on one of these users waits little.
    static let batchSize = 100

    func run() async throws {
        await runPeriodically(every: self.interval, after: self.database.migrated, logger: self.logger, failure: "credit expiry sweep failed") {
            try await self.sweep()
        }
    }

    /// Expires every lot overdue now, then notices every lot expiring within ``notice``; returns how many it expired.
    @discardableResult
    func sweep() async throws -> Int {
        let expired = try await self.inBatches(named: "credit lots expired") { connection in
            let lots = try await connection.raw(
                """
                SELECT \(CreditLedger.Lot.columns)
                FROM credit_lots l JOIN users u ON u.id = l.user_id LEFT JOIN credit_transactions t ON t.id = l.transaction_id
                WHERE NOT l.depleted AND l.expires_at <= \(self.database.dialect.now)
                ORDER BY l.expires_at \(limit: Self.batchSize)\(self.database.dialect.forNoKeyUpdateSkipLocked(of: ["l", "u"]))
                """
            ).all(decoding: CreditLedger.Lot.self)
            for lot in lots {
                _ = try await self.ledger.expire(lot, on: connection)
            }
            return lots.count
        }
        try await self.inBatches(named: "credit lots noticed") { try await self.noticeExpiring(on: $0) }
        return expired
    }

    /// One batch of `credits_expiring` notices: lots holding credits, expiring within ``notice`` but not yet, never
    /// noticed, and not opened by a `subscription` row (a period's credits are meant to lapse). Returns how many lots
    /// it claimed.
    ///
    /// The lots are claimed with their owners' rows, as the expiry batches claim theirs: a spend holds its user's row
    /// before it touches a lot and then the user's event counter, which the notice's event takes too, so claiming the
    /// lot alone could deadlock with it. The mark is conditional, and only the lots it marked are noticed.
    private func noticeExpiring(on connection: any SQLDatabase) async throws -> Int {
        let dialect = self.database.dialect
        let horizon = Date().addingTimeInterval(Double(self.notice.components.seconds))
        let lots = try await connection.raw(
            """
            SELECT l.id AS lot_id, l.user_id, l.remaining, l.expires_at
            FROM credit_lots l JOIN users u ON u.id = l.user_id LEFT JOIN credit_transactions t ON t.id = l.transaction_id
            WHERE NOT l.depleted AND l.expiry_noticed_at IS NULL
              AND l.expires_at > \(dialect.now) AND l.expires_at <= \(bind: horizon)
              AND (t.transaction_type IS NULL OR t.transaction_type <> \(literal: CreditLedger.TransactionType.subscription.rawValue))
            ORDER BY l.expires_at \(limit: Self.batchSize)\(dialect.forNoKeyUpdateSkipLocked(of: ["l", "u"]))
            """
        ).all(decoding: CreditLedger.ExpiringLot.self)
        guard !lots.isEmpty else { return 0 }
        let marked = try await connection.raw(
            """
            UPDATE credit_lots SET expiry_noticed_at = \(dialect.now)
            WHERE \(dialect.column("id", isIn: lots.map(\.lotID))) AND expiry_noticed_at IS NULL
            RETURNING id
            """
        ).all(decodingColumn: "id", as: UUID.self)
        let writer = NotificationWriter(dialect: dialect)
        for lot in lots where marked.contains(lot.lotID) {
            try await writer.write(
                NewNotification(
                    recipientID: lot.userID, kind: .creditsExpiring, credits: lot.remaining,
                    detail: lot.expiresAt.formatted(.utcDay)),
                on: connection)
        }
        return lots.count
    }

    /// Runs `batch` in a transaction of its own until one claims fewer than ``batchSize`` lots; returns the lots claimed.
    @discardableResult
    private func inBatches(named event: Logger.Message, _ batch: @escaping @Sendable (any SQLDatabase) async throws -> Int) async throws -> Int {
        var total = 0
        while true {
            let count = try await self.database.transaction { try await batch($0) }
            total += count
            if count > 0 { self.logger.info(event, metadata: ["lots": .stringConvertible(count)]) }
            guard count == Self.batchSize else { return total }
        }
    }
}
