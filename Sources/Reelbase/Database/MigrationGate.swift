import NIOConcurrencyHelpers

/// Opens once this process's start-up migrations have run (``Migrator/migrate(_:)``). The background passes of `serve`
/// start alongside the server, whose migrations run as it starts, and wait here so that none reads a table before
/// the migrations have made it (on a fresh database every first pass used to fail).
final class MigrationGate: Sendable {
    private let isOpen = NIOLockedValueBox(false)

    func open() {
        self.isOpen.withLockedValue { $0 = true }
    }

    /// Returns once open; throws `CancellationError` if the task is cancelled first. Polls: it waits only at start-up,
    /// for as long as the migrations take.
    func wait() async throws {
        while !self.isOpen.withLockedValue({ $0 }) {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
