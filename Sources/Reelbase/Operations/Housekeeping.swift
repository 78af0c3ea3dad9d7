import Foundation
import Logging
import ServiceLifecycle

/// Deletes what no request can use any more (API.md, Operations): idempotency keys older than 7 days, refresh tokens
/// 7 days past their expiry, rate-limit buckets past their windows.
///
/// Runs inside `serve` on every instance: each pass is three `DELETE`s of rows past a horizon, so instances running it
/// at once only delete the same rows twice, and need no coordination.
struct Housekeeping: Service {
    let idempotency: IdempotencyStore
    let refreshTokens: any RefreshTokenStore
    let rateLimits: RateLimitStore
    let logger: Logger
    /// Rows past their horizon harm nothing but space, so a pass every few minutes is plenty.
    var interval: Duration = .seconds(300)

    /// Keys are promised to replay for at least 24 h; a week leaves room for slow clients' retries.
    static let idempotencyKeyAge: TimeInterval = 7 * 86_400
    /// A week past expiry, a spent refresh token's replay still reports reuse, as long as anyone could plausibly try.
    static let refreshTokenGrace: TimeInterval = 7 * 86_400

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Sleeping first: at start-up the migrations may still be running, and a just-started instance has
            // nothing to prune that the others have not.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            guard !Task.isShuttingDownGracefully && !Task.isCancelled else { return }
            do {
                try await self.prune()
            } catch {
                self.logger.warning("housekeeping failed", metadata: ["error": .string(String(reflecting: error))])
            }
        }
    }

    /// One pass.
    func prune(now: Date = Date()) async throws {
        try await self.idempotency.prune(createdBefore: now.addingTimeInterval(-Self.idempotencyKeyAge))
        try await self.refreshTokens.prune(expiredBefore: now.addingTimeInterval(-Self.refreshTokenGrace))
        try await self.rateLimits.prune(now: now)
    }
}
