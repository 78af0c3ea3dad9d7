import Foundation
import NIOConcurrencyHelpers

/// This process's wake-up calls for its open event streams: "user U has new rows in the outbox". It carries no event,
/// only the hint to look; every stream reads what it sends from the outbox, so a lost or doubled hint can delay or
/// repeat a read but never lose or reorder an event.
///
/// Who rings it depends on the database: on PostgreSQL only the ``PostgresEventListener`` (every instance hears every
/// commit through `LISTEN`), on SQLite ``Database/transaction(_:)`` after each commit that wrote events (one process).
final class EventBus: Sendable {
    /// What a stream waits for.
    enum Signal: Sendable {
        /// New outbox rows may be there.
        case wake
        /// Nothing happened for a heartbeat interval: send a comment line.
        case heartbeat
    }

    private let subscribers = NIOLockedValueBox<[UUID: [UUID: AsyncStream<Signal>.Continuation]]>([:])

    /// A stream's signals, until ``unsubscribe(_:userID:)``. Only the newest few are kept: a wake that finds nothing
    /// new costs one read, so coalescing them loses nothing.
    func subscribe(userID: UUID, streamID: UUID) -> AsyncStream<Signal> {
        let (stream, continuation) = AsyncStream.makeStream(of: Signal.self, bufferingPolicy: .bufferingNewest(4))
        self.subscribers.withLockedValue { $0[userID, default: [:]][streamID] = continuation }
        return stream
    }

    func unsubscribe(_ streamID: UUID, userID: UUID) {
        let continuation = self.subscribers.withLockedValue { subscribers -> AsyncStream<Signal>.Continuation? in
            let removed = subscribers[userID]?.removeValue(forKey: streamID)
            if subscribers[userID]?.isEmpty == true { subscribers[userID] = nil }
            return removed
        }
        continuation?.finish()
    }

    /// Ends every stream of this process (graceful shutdown): their signal sequences finish.
    func finishAll() {
        let all = self.subscribers.withLockedValue { subscribers in
            defer { subscribers = [:] }
            return subscribers.values.flatMap(\.values)
        }
        for continuation in all { continuation.finish() }
    }

    func signal(_ signal: Signal, streamID: UUID, userID: UUID) {
        let continuation = self.subscribers.withLockedValue { $0[userID]?[streamID] }
        continuation?.yield(signal)
    }

    /// Wakes every stream of these users.
    func wake(_ users: some Sequence<UUID>) {
        let continuations = self.subscribers.withLockedValue { subscribers in users.flatMap { subscribers[$0].map { Array($0.values) } ?? [] } }
        for continuation in continuations { continuation.yield(.wake) }
    }

    /// Wakes every stream of this process: after the listener reconnected, anything may have been missed.
    func wakeAll() {
        let continuations = self.subscribers.withLockedValue { $0.values.flatMap(\.values) }
        for continuation in continuations { continuation.yield(.wake) }
    }

    /// How many streams this process holds open (metrics, tests).
    var openStreams: Int { self.subscribers.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }
}

/// The users whose outbox the running write transaction added to, for ``Database/transaction(_:)`` to wake after it
/// commits (SQLite). A task-local, so that the ledger, deep inside a store's transaction, needs no handle to pass on.
final class PendingEvents: Sendable {
    @TaskLocal static var current: PendingEvents?

    private let users = NIOLockedValueBox<Set<UUID>>([])

    func add(_ userID: UUID) {
        _ = self.users.withLockedValue { $0.insert(userID) }
    }

    var all: Set<UUID> { self.users.withLockedValue { $0 } }
}
