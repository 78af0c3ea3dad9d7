import Logging
import ServiceLifecycle

/// The loop of a background service of `serve`: `pass` every `interval` until graceful shutdown, once the start-up
/// migrations have opened `migrated`.
///
/// It then waits an interval first: a just-started instance has nothing to do that the others have not. A failed pass
/// is logged as `failure` and the next one tries again.
func runPeriodically(
    every interval: Duration, after migrated: MigrationGate, logger: Logger, failure: Logger.Message, _ pass: () async throws -> Void
) async {
    guard (try? await cancelWhenGracefulShutdown({ try await migrated.wait() })) != nil else { return }
    while !Task.isShuttingDownGracefully && !Task.isCancelled {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        guard !Task.isShuttingDownGracefully && !Task.isCancelled else { return }
        do {
            try await pass()
        } catch {
            logger.warning(failure, metadata: ["error": .string(String(reflecting: error))])
        }
    }
}
