import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// Hears every instance's committed events on PostgreSQL: `LISTEN reelbase_events` on a connection of its own, fed by
/// the `NOTIFY` each committed transaction that wrote events sends (``Database/announce(_:)``), and wakes this
/// instance's streams of the user each notification names.
///
/// A notification is only a hint: streams read the outbox. So a lost connection loses nothing: the listener
/// reconnects (with a backoff up to ``maximumDelay``), and once it listens again wakes every stream of this instance,
/// which read whatever committed meanwhile.
final class PostgresEventListener: Service, Sendable {
    static let applicationName = "reelbase-events"
    static let maximumDelay: Duration = .seconds(2)

    private let configuration: PostgresConnection.Configuration
    private let bus: EventBus
    private let logger: Logger

    init(configuration: PostgresConnection.Configuration, bus: EventBus, logger: Logger) {
        self.configuration = configuration
        self.bus = bus
        self.logger = logger
    }

    func run() async {
        var delay: Duration = .milliseconds(100)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let connected = await self.listenOnce()
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            // A connection that was up starts the backoff again; failing to connect doubles it.
            delay = connected ? .milliseconds(100) : min(delay * 2, Self.maximumDelay)
            try? await cancelWhenGracefulShutdown { [delay] in try await Task.sleep(for: delay) }
        }
    }

    /// One connection's life: connect, listen, wake streams, until it fails or the server shuts down. Returns whether it
    /// connected.
    private func listenOnce() async -> Bool {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: self.configuration, id: 1, logger: self.logger)
        } catch {
            self.logger.warning("event listener cannot connect; retrying", metadata: ["error": .string(String(reflecting: error))])
            return false
        }
        do {
            try await self.listen(on: connection)
        } catch {
            if !Task.isShuttingDownGracefully && !Task.isCancelled {
                self.logger.warning("event listener lost its connection; reconnecting", metadata: ["error": .string(String(reflecting: error))])
            }
        }
        try? await connection.close()
        return true
    }

    private func listen(on connection: PostgresConnection) async throws {
        try await cancelWhenGracefulShutdown {
            try await connection.listen(on: Database.eventChannel) { notifications in
                // Listening now: whatever committed while no connection listened is in the outbox.
                self.bus.wakeAll()
                for try await notification in notifications {
                    guard let user = UUID(text: notification.payload) else {
                        continue
                    }
                    self.bus.wake([user])
                }
            }
        }
    }
}
