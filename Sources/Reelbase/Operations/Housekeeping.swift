import Foundation
import Logging
import ServiceLifecycle

/// Deletes what no request can use any more (API.md, Operations): idempotency keys older than 7 days, refresh tokens
/// 7 days past their expiry, rate-limit buckets past their windows, webhook events about no known payment after 7 days
/// (API.md, Payments), live events past their replay window and expired event tickets.
///
/// Runs inside `serve` on every instance: each pass is a few `DELETE`s of rows past a horizon, so instances running it
/// at once only delete the same rows twice, and need no coordination.
struct Housekeeping: Service {
    let idempotency: IdempotencyStore
    let refreshTokens: any RefreshTokenStore
    let rateLimits: RateLimitStore
    let payments: PaymentStore
    let events: EventStreams
    let logger: Logger
    /// Rows past their horizon harm nothing but space, so a pass every few minutes is plenty.
    var interval: Duration = .seconds(300)

    /// Keys are promised to replay for at least 24 h; a week leaves room for slow clients' retries.
    static let idempotencyKeyAge: TimeInterval = 7 * 86_400
    /// A week past expiry, a spent refresh token's replay still reports reuse, as long as anyone could plausibly try.
    static let refreshTokenGrace: TimeInterval = 7 * 86_400
    /// An event about no payment this server knows may still find one (a payment recorded late); Stripe stops
    /// redelivering after 3 days, so a week keeps every id that could still be replayed.
    static let unknownPaymentEventAge: TimeInterval = 7 * 86_400

    func run() async throws {
        await runPeriodically(every: self.interval, after: self.payments.database.migrated, logger: self.logger, failure: "housekeeping failed") { try await self.prune() }
    }

    /// One pass.
    func prune(now: Date = Date()) async throws {
        try await self.idempotency.prune(createdBefore: now.addingTimeInterval(-Self.idempotencyKeyAge))
        try await self.refreshTokens.prune(expiredBefore: now.addingTimeInterval(-Self.refreshTokenGrace))
        try await self.rateLimits.prune(now: now)
        try await self.payments.pruneUnknownPaymentEvents(receivedBefore: now.addingTimeInterval(-Self.unknownPaymentEventAge))
        try await self.events.prune(now: now)
    }
}
