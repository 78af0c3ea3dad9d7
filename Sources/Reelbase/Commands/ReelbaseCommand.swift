import ArgumentParser
import Configuration
import Foundation
import Logging
import NIOConcurrencyHelpers

/// `reelbase`: the one executable of the project.
public struct ReelbaseCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reelbase",
        abstract: "Reelbase: the backend of a short-video app with a credit wallet for AI effects.",
        subcommands: [ServeCommand.self, MigrateCommand.self, WorkerCommand.self, UsersCommand.self, SeedBenchCommand.self],
        defaultSubcommand: ServeCommand.self
    )

    public init() {}
}

/// Reads the configuration, or stops the command with the reason on standard error.
func loadConfiguration(_ reader: ConfigReader) throws -> AppConfiguration {
    do {
        return try AppConfiguration(reader: reader)
    } catch let error as ConfigurationError {
        FileHandle.standardError.write(Data("reelbase: configuration error: \(error.description)\n".utf8))
        throw ExitCode(78)
    }
}

/// swift-log may be bootstrapped once per process; later commands in the same process (tests) reuse it.
private let loggingBootstrapped = NIOLockedValueBox(false)

func bootstrapLogging(level: Logger.Level) -> Logger {
    loggingBootstrapped.withLockedValue { done in
        guard !done else { return }
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        done = true
    }
    var logger = Logger(label: "reelbase")
    logger.logLevel = level
    return logger
}
