/// Lets one write transaction at a time into SQLite, in arrival order.
///
/// SQLite has a single write lock; writers that find it taken sleep in `busy_timeout` and poll with growing
/// pauses, so under contention a writer can wait far longer than the work ahead of it (p99 near a second with
/// 16 concurrent purchases). Queueing them here instead hands the lock over the moment it is free. This state is
/// per process, which is right for an embedded database file that one server process owns; PostgreSQL, shared
/// by many instances, does not use it.
actor WriteGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        if !self.busy {
            self.busy = true
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    func leave() {
        if self.waiters.isEmpty {
            self.busy = false
        } else {
            self.waiters.removeFirst().resume()
        }
    }

    func withGate<R: Sendable>(_ body: @Sendable () async throws -> R) async throws -> R {
        await self.enter()
        do {
            let result = try await body()
            self.leave()
            return result
        } catch {
            self.leave()
            throw error
        }
    }
}
