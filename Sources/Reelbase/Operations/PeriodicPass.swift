import Logging
import ServiceLifecycle

/// The loop of a background service of `serve`: `pass` every `interval` until graceful shutdown, once the start-up
/// migrations have opened `migrated`.
///
/// By default it waits an interval before the first pass: a just-started instance has nothing to do that the others
/// have not. `firstPassAtOnce` runs it as soon as the migrations are in (a sweep of work a crash left behind). A failed
/// pass is logged as `failure` and the next one tries again.
func runPeriodically(
    every interval: Duration, after migrated: MigrationGate, firstPassAtOnce: Bool = false, logger: Logger, failure: Logger.Message,
    _ pass: () async throws -> Void
) async {
    guard (try? await cancelWhenGracefulShutdown({ try await migrated.wait() })) != nil else { return }
    var waitFirst = !firstPassAtOnce
    while !Task.isShuttingDownGracefully && !Task.isCancelled {
        if waitFirst {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            guard !Task.isShuttingDownGracefully && !Task.isCancelled else { return }
        }
        waitFirst = true
        do {
            try await pass()
        } catch {
            logger.warning(failure, metadata: ["error": .string(String(reflecting: error))])
        }
    }
}
