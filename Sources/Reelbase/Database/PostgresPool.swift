import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresKit
import PostgresNIO
import SQLKit
import ServiceLifecycle

/// This instance's PostgreSQL connections: postgres-nio's `PostgresClient` pool, bounded and watched so that an
/// outage is answered quickly and recovered from quickly.
///
/// `PostgresClient` waits for a connection forever, and once connecting fails it retries one connection at a time with
/// a backoff that grows to a minute (after a minute of failures it refuses every lease until such a retry succeeds).
/// So this pool:
/// - bounds every lease by a timeout (``withConnection(_:)``);
/// - checks the server on a connection of its own (``ServerProbe``) every ``heartbeatInterval``, so that an outage
///   is known even when no request meets it (the client's own failed connects are not visible from outside); sooner
///   when a lease has waited ``probeAfter`` or a statement lost its connection; every ``probeInterval`` while down;
/// - while the server is known unreachable (the last probe failed, within ``unreachableMemory`` or with the next probe
///   still under way), refuses leases at once with ``DatabaseUnavailable``;
/// - when a probe succeeds after a failure, swaps in a new `PostgresClient`, so that recovery does not wait for the old
///   client's backoff; the old one closes once its last lease is returned.
///
/// The state is per process on purpose: it is this instance's view of its own connections to the server (a network
/// path can fail for one instance only); every instance probes for itself.
final class PostgresPool: Service, DatabaseReachability, Sendable {
    /// A lease still waiting after this long asks for a probe: a busy pool grants within it, a dead server never does.
    static let probeAfter: Duration = .milliseconds(500)
    /// How often the server is probed while it is down, and at most while a lease asks.
    static let probeInterval: Duration = .milliseconds(500)
    /// How often the server is checked while it is up: one `SELECT 1` on the probe's connection.
    static let heartbeatInterval: Duration = .seconds(1)
    /// How long one failed probe keeps the server "known unreachable" (API.md: a failed connect in the last 2 s).
    static let unreachableMemory: Duration = .seconds(2)

    private let clientConfiguration: PostgresClient.Configuration
    private let probeConfiguration: PostgresConnection.Configuration
    private let leaseTimeout: Duration
    private let logger: Logger
    private let state: NIOLockedValueBox<State>
    /// Clients swapped in after an outage, for ``run()`` to run beside the others.
    private let replacements: (stream: AsyncStream<Generation>, continuation: AsyncStream<Generation>.Continuation)

    private struct State {
        var current: Generation
        var lastFailure: ContinuousClock.Instant?
        var lastSuccess: ContinuousClock.Instant?
        var probeRequested = false
        var isProbing = false

        /// The last probe failed (the server is down until one succeeds).
        var isDown: Bool {
            guard let lastFailure else { return false }
            return self.lastSuccess.map { $0 < lastFailure } ?? true
        }
    }

    /// - Parameters:
    ///   - client: How the pool connects.
    ///   - probe: The same server, user and TLS, for the probe connections (its connect timeout bounds a probe).
    ///   - leaseTimeout: How long a lease may wait for a connection while the server is not known unreachable.
    init(client: PostgresClient.Configuration, probe: PostgresConnection.Configuration, leaseTimeout: Duration, logger: Logger) {
        self.clientConfiguration = client
        self.probeConfiguration = probe
        self.leaseTimeout = leaseTimeout
        self.logger = logger
        self.state = NIOLockedValueBox(State(current: Generation(client: PostgresClient(configuration: client, backgroundLogger: logger))))
        self.replacements = AsyncStream.makeStream()
    }

    /// A probe that is slow to fail (a server that drops packets rather than refusing) keeps the last failure standing:
    /// nothing has been learnt since.
    var isKnownUnreachable: Bool {
        self.state.withLockedValue { state in
            guard state.isDown, let lastFailure = state.lastFailure else { return false }
            return state.isProbing || ContinuousClock.now - lastFailure < Self.unreachableMemory
        }
    }

    /// Runs the clients and the probe until graceful shutdown (after the HTTP server has drained).
    func run() async {
        let first = self.state.withLockedValue { $0.current }
        await withDiscardingTaskGroup { group in
            group.addTask { await first.run() }
            group.addTask {
                await self.watch()
                self.replacements.continuation.finish()
            }
            for await replacement in self.replacements.stream {
                group.addTask { await replacement.run() }
            }
        }
    }

    /// Runs `body` on a leased connection, or throws ``DatabaseUnavailable`` if none is granted: at once while the
    /// server is known unreachable, as soon as a probe finds it so, and otherwise after the lease timeout.
    /// Exactly one of the two happens: a body that has started is never cut short by the timer.
    func withConnection<R: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> R) async throws -> R {
        guard !self.isKnownUnreachable else { throw DatabaseUnavailable(.serverUnreachable) }
        let generation = self.acquireCurrent()
        defer { generation.release() }
        let lease = NIOLockedValueBox(LeaseState.waiting)
        do {
            return try await withThrowingTaskGroup(of: R?.self) { group in
                group.addTask {
                    do {
                        return try await generation.client.withConnection { connection in
                            guard lease.withLockedValue({ $0.settle(.granted) }) else { throw DatabaseUnavailable(.leaseTimeout) }
                            let inUse = Observability.connectionsInUse(.postgres)
                            inUse.increment()
                            defer { inUse.decrement() }
                            return try await body(connection)
                        }
                    } catch where lease.withLockedValue({ $0.settle(.refused) }) {
                        // Refused before granting (circuit breaker open, pool closing): no connection to be had.
                        throw DatabaseUnavailable(.poolRefused)
                    }
                }
                group.addTask {
                    try await self.expire(lease)
                    return nil
                }
                while let result = try await group.next() {
                    if let value = result {
                        group.cancelAll()
                        return value
                    }
                }
                throw DatabaseUnavailable(.leaseTimeout)
            }
        } catch {
            if DatabaseFailure(error) == .unavailable { self.requestProbe() }
            throw error
        }
    }

    /// Fails a lease that is still waiting when the timeout passes or a probe finds the server unreachable.
    ///
    /// Its waits are timers on an event loop, removed from the loop when the lease is granted and the wait cancelled.
    /// A cancelled `Task.sleep` leaves its timer armed in Dispatch until the deadline, on a thread outside the event
    /// loops: one such timer for every statement.
    private func expire(_ lease: NIOLockedValueBox<LeaseState>) async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let deadline = NIODeadline.now() + TimeAmount(self.leaseTimeout)
        try await Self.sleep(until: min(.now() + TimeAmount(Self.probeAfter), deadline), on: loop)
        guard lease.withLockedValue({ $0 == .waiting }) else { return }
        self.requestProbe()
        while NIODeadline.now() < deadline, !self.isKnownUnreachable, lease.withLockedValue({ $0 == .waiting }) {
            try await Self.sleep(until: min(.now() + .milliseconds(100), deadline), on: loop)
        }
        if lease.withLockedValue({ $0.settle(.expired) }) {
            throw DatabaseUnavailable(self.isKnownUnreachable ? .serverUnreachable : .leaseTimeout)
        }
    }

    /// Waits until `deadline` on `loop`; cancelling the task cancels the timer and throws.
    private static func sleep(until deadline: NIODeadline, on loop: any EventLoop) async throws {
        let timer = loop.scheduleTask(deadline: deadline) {}
        try await withTaskCancellationHandler {
            try await timer.futureResult.get()
        } onCancel: {
            timer.cancel()
        }
    }

    /// Asks the watcher for a probe (it runs one at a time, and skips it if one just succeeded).
    private func requestProbe() {
        self.state.withLockedValue { $0.probeRequested = true }
    }

    /// The current client, counted as in use so that it is not closed under a lease if it is replaced meanwhile.
    private func acquireCurrent() -> Generation {
        while true {
            let generation = self.state.withLockedValue { $0.current }
            if generation.acquire() { return generation }
        }
    }

    /// Probes every ``heartbeatInterval`` while the server is up, every ``probeInterval`` while it is down or a lease
    /// asks, until graceful shutdown. A tick of 100 ms keeps a requested probe prompt without a second signalling
    /// mechanism.
    private func watch() async {
        var probe = ServerProbe(configuration: self.probeConfiguration, timeout: self.leaseTimeout, logger: self.logger)
        let clock = ContinuousClock()
        var lastProbe: ContinuousClock.Instant?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await clock.sleep(for: .milliseconds(100))
            let now = clock.now
            let due = self.state.withLockedValue { state in
                let requested = state.probeRequested
                state.probeRequested = false
                guard let lastProbe else { return true }
                return now - lastProbe >= (state.isDown || requested ? Self.probeInterval : Self.heartbeatInterval)
            }
            guard due else { continue }
            lastProbe = now
            await self.probeAndRecover(&probe)
        }
        await probe.close()
    }

    private func probeAndRecover(_ probe: inout ServerProbe) async {
        let wasDown = self.state.withLockedValue { state in
            state.isProbing = true
            return state.isDown
        }
        let reachable = await probe.isReachable()
        if reachable && wasDown {
            await self.replaceClient()
            self.logger.notice("database reachable again: new connections are opened")
        } else if !reachable && !wasDown {
            self.logger.warning("database unreachable: requests answer 503 until a probe connects again")
        }
        let now = ContinuousClock.now
        self.state.withLockedValue { state in
            state.isProbing = false
            if reachable { state.lastSuccess = now } else { state.lastFailure = now }
        }
    }

    /// Swaps in a new client once it runs; the old one, stuck in its backoff, closes when its last lease ends.
    private func replaceClient() async {
        let fresh = Generation(client: PostgresClient(configuration: self.clientConfiguration, backgroundLogger: self.logger))
        self.replacements.continuation.yield(fresh)
        // Leases before `run()` starts would work but log a warning; the wait is a few scheduler turns.
        for _ in 0..<100 where !fresh.isRunning {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let old = self.state.withLockedValue { state in
            defer { state.current = fresh }
            return state.current
        }
        old.retire()
    }

    private enum LeaseState {
        case waiting, granted, refused, expired

        /// Moves a waiting lease to its outcome; `false` if another outcome came first.
        mutating func settle(_ outcome: LeaseState) -> Bool {
            guard self == .waiting else { return false }
            self = outcome
            return true
        }
    }
}

/// The pool's own look at the server: one connection, asked `SELECT 1`, and opened again when it is lost. Used by the
/// watcher task only.
private struct ServerProbe {
    let configuration: PostgresConnection.Configuration
    /// Bounds the query; the configuration's connect timeout bounds a connect.
    let timeout: Duration
    let logger: Logger
    private var connection: PostgresConnection?

    init(configuration: PostgresConnection.Configuration, timeout: Duration, logger: Logger) {
        self.configuration = configuration
        self.timeout = timeout
        self.logger = logger
    }

    /// Whether the server answers on the open connection, or else accepts a new one. A server that refuses a
    /// connection for lack of resources (SQLSTATE class 53, e.g. too many connections) is reachable: the pool's open
    /// connections still serve.
    mutating func isReachable() async -> Bool {
        if let connection = self.connection {
            if await self.answers(connection) { return true }
            self.connection = nil
        }
        do {
            // The id only names the connection in postgres-nio's logs.
            self.connection = try await PostgresConnection.connect(configuration: self.configuration, id: 0, logger: self.logger)
            return true
        } catch let error as PSQLError where error.serverInfo?[.sqlState]?.hasPrefix("53") == true {
            return true
        } catch {
            self.logger.debug("database probe failed", metadata: ["error": .string(String(reflecting: error))])
            return false
        }
    }

    func close() async {
        try? await self.connection?.close()
    }

    /// `SELECT 1` within ``timeout``; a connection that does not answer in time is closed, which ends the query (it is
    /// written only to an open connection, ``OpenConnectionStatements``: one written to a closed one would never end).
    private func answers(_ connection: PostgresConnection) async -> Bool {
        // Seen closed already (the server went away): no statement, and no warning from the guard.
        guard !connection.isClosed else { return false }
        let statements = OpenConnectionStatements(connection: connection, base: connection.sql(queryLogLevel: nil, logger: self.logger))
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await statements.raw("SELECT 1").run()) != nil }
            group.addTask {
                try? await Task.sleep(for: self.timeout)
                return false
            }
            let answered = await group.next() ?? false
            // Also ends a query still waiting on a server that went silent.
            if !answered { try? await connection.close() }
            group.cancelAll()
            return answered
        }
    }
}

/// One `PostgresClient` and the leases taken from it: it runs until it is retired and its last lease is returned.
private final class Generation: Sendable {
    let client: PostgresClient
    private let usage = NIOLockedValueBox(Usage())
    private let idle: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation) = AsyncStream.makeStream()

    private struct Usage {
        var leases = 0
        var retired = false
        var running = false
    }

    init(client: PostgresClient) {
        self.client = client
    }

    var isRunning: Bool { self.usage.withLockedValue { $0.running } }

    func run() async {
        self.usage.withLockedValue { $0.running = true }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.client.run() }
            // Ends when the client is retired and idle (or when the client ends first, at shutdown).
            group.addTask { for await _ in self.idle.stream {} }
            await group.next()
            group.cancelAll()
        }
    }

    /// Counts a lease; `false` once retired (take the current client instead).
    func acquire() -> Bool {
        self.usage.withLockedValue { usage in
            guard !usage.retired else { return false }
            usage.leases += 1
            return true
        }
    }

    func release() {
        let idle = self.usage.withLockedValue { usage in
            usage.leases -= 1
            return usage.retired && usage.leases == 0
        }
        if idle { self.idle.continuation.finish() }
    }

    func retire() {
        let idle = self.usage.withLockedValue { usage in
            usage.retired = true
            return usage.leases == 0
        }
        if idle { self.idle.continuation.finish() }
    }
}
