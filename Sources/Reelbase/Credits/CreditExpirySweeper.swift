import Foundation
import Logging
import ServiceLifecycle
import SQLKit

/// Expires credit lots past their expiry: one `expiry` row per lot, every `EXPIRY_SWEEP_SECONDS`.
///
/// Runs inside `serve` on every instance. Each batch claims its lots together with their owners' rows, skipping rows
/// another transaction holds (PostgreSQL: another sweeper's batch, or a spend of that user, which expires the lot
/// itself); on SQLite the write lock makes batches one at a time. A lot is expired only with what it holds when
/// claimed, and then holds nothing, so no credit is expired twice.
struct CreditExpirySweeper: Service {
    let database: Database
    let ledger: CreditLedger
    let interval: Duration
    let logger: Logger

    /// Lots per transaction: short enough that a spend waiting on one of these users waits little.
    static let batchSize = 100

    func run() async throws {
        await runPeriodically(every: self.interval, after: self.database.migrated, logger: self.logger, failure: "credit expiry sweep failed") {
            try await self.sweep()
        }
    }

    /// Expires every lot overdue now, batch after batch; returns how many it expired.
    @discardableResult
    func sweep() async throws -> Int {
        var expired = 0
        while true {
            let batch = try await self.database.transaction { connection in
                let lots = try await connection.raw(
                    """
                    SELECT \(CreditLedger.Lot.columns)
                    FROM credit_lots l JOIN users u ON u.id = l.user_id LEFT JOIN credit_transactions t ON t.id = l.transaction_id
                    WHERE l.remaining > 0 AND l.expires_at <= \(self.database.dialect.now)
                    ORDER BY l.expires_at \(limit: Self.batchSize)\(self.database.dialect.forNoKeyUpdateSkipLocked(of: ["l", "u"]))
                    """
                ).all(decoding: CreditLedger.Lot.self)
                for lot in lots {
                    _ = try await self.ledger.expire(lot, on: connection)
                }
                return lots.count
            }
            expired += batch
            if batch > 0 { self.logger.info("credit lots expired", metadata: ["lots": .stringConvertible(batch)]) }
            guard batch == Self.batchSize else { return expired }
        }
    }
}
