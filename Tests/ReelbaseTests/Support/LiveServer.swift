import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle

/// Serves an application on a socket (127.0.0.1, a free port) for the tests that need a real listener: a worker
/// that speaks HTTP to the server, a fake Stripe the gateway calls.
///
/// HummingbirdTesting's `.live` waits for the server's port without watching the server: when start-up throws
/// (migrations that cannot lease a connection within 5 s on a loaded machine), the port never comes and the test
/// awaits it forever with every thread idle. Here the server's end also ends that wait, and the test fails with
/// the server's error.
enum LiveServer {
    /// Runs `app` until `body` returns, then shuts it down gracefully; `body` gets the port it listens on.
    static func run<App: ApplicationProtocol, R: Sendable>(
        _ app: App,
        _ body: @escaping @Sendable (Int) async throws -> R
    ) async throws -> R {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let services = ServiceGroup(
            services: [PortReportingApplication(base: app, port: portContinuation)], gracefulShutdownSignals: [], logger: app.logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // However the server ends, before or after it listened, no one waits for a port any more.
                defer { portContinuation.finish() }
                try await services.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                // The server ended without listening: its error, if it threw one, is the test's.
                try await tasks.waitForAll()
                throw TestSetupError("the server stopped before it listened")
            }
            let result: Result<R, any Error>
            do {
                result = .success(try await body(port))
            } catch {
                result = .failure(error)
            }
            await services.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }

    /// Runs `app` with a ``TestClient`` that sends its requests over HTTP, for tests that also hand the port to
    /// something outside the process's router (a worker).
    static func run<App: ApplicationProtocol, R: Sendable>(
        _ app: App,
        databaseURL: String? = nil,
        _ body: @escaping @Sendable (TestClient, Int) async throws -> R
    ) async throws -> R {
        try await self.run(app) { port in
            try await HummingbirdTesting.TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(30))) {
                try await body(TestClient(live: $0, databaseURL: databaseURL), port)
            }
        }
    }
}

/// The application as it is, except that it listens on 127.0.0.1 at a port the system picks, and reports that port.
private struct PortReportingApplication<Base: ApplicationProtocol>: ApplicationProtocol {
    typealias Responder = Base.Responder

    let base: Base
    let port: AsyncStream<Int>.Continuation

    var responder: Responder {
        get async throws { try await self.base.responder }
    }
    var server: HTTPServerBuilder { self.base.server }
    var eventLoopGroup: any EventLoopGroup { self.base.eventLoopGroup }
    var configuration: ApplicationConfiguration { self.base.configuration.with(address: .hostname("127.0.0.1", port: 0)) }
    var logger: Logger { self.base.logger }
    var services: [any Service] { self.base.services }
    var processesRunBeforeServerStart: [@Sendable () async throws -> Void] { self.base.processesRunBeforeServerStart }

    @Sendable func onServerRunning(_ channel: any Channel) async {
        await self.base.onServerRunning(channel)
        self.port.yield(channel.localAddress?.port ?? 0)
    }
}
