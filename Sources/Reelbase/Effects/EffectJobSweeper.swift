import Foundation
import Logging
import ServiceLifecycle

/// Fails and refunds jobs whose worker went silent: running longer than `EFFECT_JOB_TIMEOUT`.
///
/// Runs inside `serve` on every instance; instances need no coordination because ending a job is a conditional
/// update that only one of them (or a late worker report) can win.
struct EffectJobSweeper: Service {
    let jobs: EffectJobStore
    let timeout: Duration
    let logger: Logger

    /// Often enough that a stale job ends within a quarter of its timeout, at most every 30 s.
    var interval: Duration { min(.seconds(30), self.timeout / 4) }

    func run() async throws {
        await runPeriodically(
            every: self.interval, after: self.jobs.database.migrated, firstPassAtOnce: true, logger: self.logger,
            failure: "effect job sweep failed"
        ) { try await self.sweep() }
    }

    /// One pass; returns how many jobs it ended.
    @discardableResult
    func sweep(now: Date = Date()) async throws -> Int {
        let cutoff = now.addingTimeInterval(-(self.timeout / .seconds(1)))
        var ended = 0
        for id in try await self.jobs.staleRunningJobs(claimedBefore: cutoff, limit: 100) {
            do {
                _ = try await self.jobs.fail(id: id, error: "Timed out: no report from the worker within \(Int(self.timeout / .seconds(1))) s.")
                ended += 1
                self.logger.notice("stale effect job failed and refunded", metadata: ["job_id": .string(id.lowercased)])
            } catch is JobReportRefusal {
                // A worker reported in the meantime; its report won.
            }
        }
        return ended
    }
}
