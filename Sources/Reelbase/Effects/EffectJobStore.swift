import Foundation
import SQLKit

/// Why a worker's report on a job was not applied.
enum JobReportRefusal: Error, Sendable {
    case notFound
    /// The job already ended (`succeeded` or `failed`): nothing changes, nothing more is refunded.
    case alreadyFinished
    /// The job has not been claimed yet.
    case notRunning
}

/// Why a job was not accepted; nothing was written.
enum EffectJobError: Error, Sendable {
    /// No video the user can see has this id (``Visibility``).
    case videoNotFound
}

/// Effect jobs: charged when accepted, handed to one worker at a time, refunded exactly once if they fail.
struct EffectJobStore: Sendable {
    let database: Database
    let ledger: CreditLedger

    /// Charges the effect and queues the job, in one transaction: no charge without a job, no job without a charge.
    /// Throws ``EffectJobError/videoNotFound`` for a video the user cannot see and
    /// ``LedgerError/insufficientCredits(required:balance:)`` (nothing written) for a short balance.
    func enqueue(effect: Effect, videoID: UUID, userID: UUID, on connection: any SQLDatabase) async throws -> AcceptedJob {
        let dialect = self.database.dialect
        // Serialised with block creation, then checked: no job starts on a video a block hides from the user.
        try await Visibility.serialise(userID, ownerOf: videoID, on: connection, dialect: dialect)
        guard try await connection.raw("SELECT videos.id FROM " + Visibility(viewer: userID).videoSource(id: videoID)).first() != nil else {
            throw EffectJobError.videoNotFound
        }
        let charge = try await self.ledger.apply(
            CreditLedger.Movement(
                userID: userID, type: .usage, credits: -effect.credits,
                description: "\(effect.name) (\(effect.credits) credits)",
                extraData: ["effect_id": effect.id, "video_id": videoID.lowercased]),
            on: connection)
        let jobID = UUID()
        guard
            let job = try await connection.raw(
                """
                INSERT INTO effect_jobs (id, user_id, effect_id, effect_name, video_id, status, credits_charged,
                                         usage_transaction_id, created_at, updated_at)
                VALUES (\(bind: jobID), \(bind: userID), \(bind: effect.id), \(bind: effect.name), \(bind: videoID),
                        \(literal: JobStatus.queued.rawValue),
                        \(bind: effect.credits), \(bind: charge.id), \(dialect.now), \(dialect.now))
                RETURNING \(EffectJob.columns)
                """
            ).first(decoding: EffectJob.self)
        else { throw UnexpectedRow("the effect job \(jobID.lowercased) just inserted returned no row") }
        try await self.announce(job, on: connection)
        return AcceptedJob(jobID: jobID, creditsCharged: effect.credits, newBalance: charge.balanceAfter)
    }

    /// Expires the user's overdue lots in a transaction of its own.
    func expireOverdueLots(of userID: UUID) async throws {
        try await self.database.transaction { connection in _ = try await self.ledger.expireOverdueLots(of: userID, on: connection) }
    }

    func find(id: UUID) async throws -> EffectJob? {
        try await self.database.sql.raw("SELECT \(EffectJob.columns) FROM effect_jobs WHERE id = \(bind: id)")
            .first(decoding: EffectJob.self)
    }

    /// One page of the user's jobs, newest first, keyset-paginated on `(created_at, id)` like the feeds.
    func list(userID: UUID, page: PageRequest) async throws -> Page<EffectJob> {
        let dialect = self.database.dialect
        let keyset: SQLQueryString = page.after.map {
            "AND (created_at, id) < (\(dialect.instant(exact: $0.instant)), \(bind: $0.id))"
        } ?? ""
        let rows = try await self.database.sql.raw(
            """
            SELECT \(EffectJob.columns), \(dialect.exactInstant("effect_jobs.created_at")) AS sort_key FROM effect_jobs
            WHERE user_id = \(bind: userID) \(keyset)
            ORDER BY created_at DESC, id DESC
            \(limit: page.limit + 1)
            """
        ).all()
        let jobs = try rows.map { (job: try $0.decode(model: EffectJob.self), key: try $0.decode(column: "sort_key", as: Double.self)) }
        return Page(rows: jobs, limit: page.limit) { FeedCursor(instant: $0.key, id: $0.job.id) }.map(\.job)
    }

    /// Hands the oldest queued job to this caller, and to no one else: on Postgres the row is locked with
    /// `SKIP LOCKED` so concurrent claimers take different jobs instead of waiting; on SQLite the write
    /// transaction already excludes every other writer.
    func claim() async throws -> EffectJob? {
        let dialect = self.database.dialect
        return try await self.database.transaction { connection in
            let job = try await connection.raw(
                """
                UPDATE effect_jobs SET status = \(literal: JobStatus.running.rawValue), claimed_at = \(dialect.now), updated_at = \(dialect.now)
                WHERE id = (SELECT id FROM effect_jobs WHERE status = \(literal: JobStatus.queued.rawValue)
                            ORDER BY created_at, id LIMIT 1\(dialect.forUpdateSkipLocked))
                RETURNING \(EffectJob.columns)
                """
            ).first(decoding: EffectJob.self)
            if let job { try await self.announce(job, on: connection) }
            return job
        }
    }

    /// The owner's streams get the job after each status change, and a notification when it ends; both commit with the
    /// change (the refund's `balance` event comes from the ledger, before them).
    private func announce(_ job: EffectJob, refund: Int? = nil, on connection: any SQLDatabase) async throws {
        let dialect = self.database.dialect
        try await EventOutbox(dialect: dialect).append(.job, payload: JobView(job), for: job.userID, on: connection)
        let ended: NotificationKind? =
            switch job.status {
            case .succeeded: .effectSucceeded
            case .failed: .effectFailed
            case .queued, .running: nil
            }
        guard let ended else { return }
        try await NotificationWriter(dialect: dialect).write(
            NewNotification(recipientID: job.userID, kind: ended, videoID: job.videoID, jobID: job.id, credits: refund), on: connection)
    }

    func complete(id: UUID, outputURL: String) async throws -> EffectJob {
        let dialect = self.database.dialect
        return try await self.database.transaction { connection in
            guard
                let job = try await connection.raw(
                    """
                    UPDATE effect_jobs SET status = \(literal: JobStatus.succeeded.rawValue), output_url = \(bind: outputURL),
                        updated_at = \(dialect.now)
                    WHERE id = \(bind: id) AND status = \(literal: JobStatus.running.rawValue)
                    RETURNING \(EffectJob.columns)
                    """
                ).first(decoding: EffectJob.self)
            else { throw try await self.refusal(id: id, on: connection) }
            try await self.announce(job, on: connection)
            return job
        }
    }

    /// Ends a running job as failed and refunds its charge. The conditional update lets exactly one of any number
    /// of racing reports (a worker's `fail`, a late `complete`, the sweeper) end the job, so the refund is written once.
    func fail(id: UUID, error: String) async throws -> EffectJob {
        let dialect = self.database.dialect
        return try await self.database.transaction { connection in
            guard
                let job = try await connection.raw(
                    """
                    UPDATE effect_jobs SET status = \(literal: JobStatus.failed.rawValue), error = \(bind: error), updated_at = \(dialect.now)
                    WHERE id = \(bind: id) AND status = \(literal: JobStatus.running.rawValue)
                    RETURNING \(EffectJob.columns)
                    """
                ).first(decoding: EffectJob.self)
            else { throw try await self.refusal(id: id, on: connection) }
            let refund = try await self.ledger.apply(
                CreditLedger.Movement(
                    userID: job.userID, type: .refund, credits: job.creditsCharged,
                    description: "Refund: \(job.effectName) (\(job.creditsCharged) credits)",
                    extraData: ["job_id": job.id.lowercased, "effect_id": job.effectID],
                    // Back to the lots the charge drew from.
                    undoing: job.usageTransactionID),
                on: connection)
            try await connection.raw("UPDATE effect_jobs SET refund_transaction_id = \(bind: refund.id) WHERE id = \(bind: id)").run()
            try await self.announce(job, refund: refund.credits, on: connection)
            return job
        }
    }

    /// Jobs claimed before `cutoff` and still running: their worker is presumed dead.
    func staleRunningJobs(claimedBefore cutoff: Date, limit: Int) async throws -> [UUID] {
        try await self.database.sql.raw(
            """
            SELECT id FROM effect_jobs WHERE status = \(literal: JobStatus.running.rawValue) AND claimed_at < \(bind: cutoff)
            ORDER BY claimed_at \(limit: limit)
            """
        ).all(decodingColumn: "id", as: UUID.self)
    }

    /// How many jobs are in each state (states with none are absent).
    func countsByStatus() async throws -> [JobStatus: Int] {
        struct Count: Decodable {
            var status: JobStatus
            var jobs: Int
        }
        let counts = try await self.database.sql.raw("SELECT status, COUNT(*) AS jobs FROM effect_jobs GROUP BY status")
            .all(decoding: Count.self)
        return Dictionary(counts.map { ($0.status, $0.jobs) }, uniquingKeysWith: +)
    }

    private func refusal(id: UUID, on connection: any SQLDatabase) async throws -> JobReportRefusal {
        guard
            let status = try await connection.raw("SELECT status FROM effect_jobs WHERE id = \(bind: id)")
                .first(decodingColumn: "status", as: JobStatus.self)
        else { return .notFound }
        return status == .queued ? .notRunning : .alreadyFinished
    }
}
