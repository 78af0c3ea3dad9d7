import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle

/// `reelbase worker`: renders effect jobs by running a command for each.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Claim effect jobs from a Reelbase server and run a command for each.",
        discussion: """
            The command runs with /bin/sh -c and gets JOB_ID, EFFECT_ID and VIDEO_URL in its environment, \
            and not the service key (neither SERVICE_KEY nor any variable holding it). \
            Exit status 0 completes the job with the last line of its standard output as output_url; \
            any other status fails the job (and refunds it) with the tail of its standard error. \
            SIGTERM or SIGINT: the job in hand is finished and reported, then the worker exits.
            """
    )

    @Option(help: "Base URL of the Reelbase server.")
    var server: String = "http://127.0.0.1:8080"

    @Option(name: .customLong("service-key"), help: "The server's SERVICE_KEY (or set SERVICE_KEY).")
    var serviceKey: String?

    @Option(name: .customLong("exec"), help: "The command that renders one job.")
    var command: String

    @Option(name: .customLong("max-jobs"), help: "Exit after this many jobs (default: run until stopped).")
    var maxJobs: Int?

    @Option(name: .customLong("log-level"), help: "swift-log level (default info).")
    var logLevel: String = "info"

    func run() async throws {
        guard let url = URL(string: self.server), url.scheme == "http" || url.scheme == "https" else {
            throw ValidationError("--server must be an http(s) URL")
        }
        guard let key = self.serviceKey ?? ProcessInfo.processInfo.environment["SERVICE_KEY"], !key.isEmpty else {
            throw ValidationError("--service-key (or SERVICE_KEY) is required")
        }
        let logger = bootstrapLogging(level: Logger.Level(rawValue: self.logLevel) ?? .info)
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let worker = EffectWorker(
            server: url, serviceKey: key, command: self.command, maxJobs: self.maxJobs, httpClient: httpClient, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }
}
