import Foundation
import NIOConcurrencyHelpers

/// Runs another program and waits for it: the one way this program (the effect worker) and its tests start a child.
///
/// Foundation's `Process` sees a child exit when a socket it hands the child is closed by every holder, so a child
/// started at that moment by anything else (`system(3)`, another `Process.run()`) inherits the socket and delays the
/// exit until it ends too; a descendant that lives on (a server a script starts) must close it (`scripts/pg.sh` does).
/// Starts therefore happen one at a time, and nothing here starts a child any other way.
enum ChildProcess {
    private static let starting = NIOLock()

    /// The child was still running when its time limit passed; it was killed.
    struct TimedOut: Error, CustomStringConvertible {
        var limit: Duration
        var description: String { "the child process did not exit within \(self.limit) and was killed" }
    }

    /// Starts `process` and returns its termination status once it exits. With a `limit`, a child still running then
    /// is killed with its process group (Foundation gives each child a group of its own) and ``TimedOut`` is thrown.
    static func run(_ process: Process, limit: Duration? = nil) async throws -> Int32 {
        let timedOut = NIOLockedValueBox(false)
        let watchdog = limit.map { limit in
            Task {
                try await Task.sleep(for: limit)
                // Never a group id of 0 (this program's own group): only a child that was started and still runs.
                let child = process.processIdentifier
                guard child > 0, process.isRunning else { return }
                timedOut.withLockedValue { $0 = true }
                kill(-child, SIGKILL)
            }
        }
        defer { watchdog?.cancel() }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try self.starting.withLock { try process.run() }
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        if let limit, timedOut.withLockedValue({ $0 }) { throw TimedOut(limit: limit) }
        return status
    }
}
