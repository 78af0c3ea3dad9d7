import ArgumentParser
import Hummingbird
import Logging

/// `reelbase serve` (the default): applies migrations and serves the API until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand, SettingsCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Apply migrations and serve the HTTP API.",
        discussion: "Every setting is also an environment variable (the name shown in capitals); a flag given here wins."
    )

    static let acceptedSettings = AppConfiguration.settings

    @OptionGroup var commandLine: SettingArguments<ServeCommand>

    func run() async throws {
        let configuration = try loadConfiguration(self.commandLine.reader())
        let logger = bootstrapLogging(level: configuration.logLevel)
        let app = try await buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }
}

/// `reelbase migrate`: applies pending migrations and exits.
struct MigrateCommand: AsyncParsableCommand, SettingsCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations and exit (serve also applies them at start-up)."
    )

    /// Only what a migration needs; the rest still comes from the environment and is checked as `serve` checks it.
    static let acceptedSettings = AppConfiguration.settings(for: [\.databaseURL, \.logLevel])

    @OptionGroup var commandLine: SettingArguments<MigrateCommand>

    func run() async throws {
        let configuration = try loadConfiguration(self.commandLine.reader())
        let logger = bootstrapLogging(level: configuration.logLevel)
        let applied = try await DatabaseConnector.withDatabase(configuration.databaseURL, logger: logger) { database in
            try await Migrator(database: database, logger: logger).migrate()
        }
        logger.info("migrations done", metadata: ["applied": .stringConvertible(applied.count)])
    }
}
