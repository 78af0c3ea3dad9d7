import ArgumentParser
import Foundation
import Logging

/// `reelbase users`: account administration on the server's own machine.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Administer accounts directly in the database.",
        subcommands: [SetRoleCommand.self]
    )
}

/// `reelbase users set-role --email E --role admin`: how the operator appoints the first admin (admins appoint the
/// rest over HTTP). It writes to the database `serve` uses, so it works while the server runs, and the change
/// applies to that server's next request.
struct SetRoleCommand: AsyncParsableCommand, SettingsCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-role",
        abstract: "Give an account a role (user, moderator or admin); applies pending migrations first.",
        discussion: "Recorded in the moderation log with no actor. An unknown email exits 1; demoting the last admin exits 1."
    )

    static let acceptedSettings = AppConfiguration.settings(for: [\.databaseURL, \.logLevel])

    @OptionGroup var commandLine: SettingArguments<SetRoleCommand>

    @Option(help: "Email of the account.")
    var email: String

    @Option(help: "The role to give: \(UserRole.allCases.map(\.rawValue).joined(separator: ", ")).")
    var role: UserRole

    func run() async throws {
        let configuration = try loadConfiguration(self.commandLine.reader())
        try await self.run(configuration: configuration, logger: bootstrapLogging(level: configuration.logLevel))
    }

    /// The command's work once its configuration is read (tests pass theirs, and their logger).
    func run(configuration: AppConfiguration, logger: Logger) async throws {
        let role = self.role
        let email = self.email
        do {
            let user = try await DatabaseConnector.withDatabase(configuration.databaseURL, logger: logger) { database in
                try await Migrator(database: database, logger: logger).migrate()
                return try await SQLRoleStore(database: database).setRole(role, of: .email(email), by: nil)
            }
            logger.notice("role set", metadata: ["user_id": .string(user.id.lowercased), "role": .string(role.rawValue)])
        } catch let error as RoleChangeError {
            let reason =
                switch error {
                case .unknownUser: "no account has the email \(email)"
                case .lastAdmin: "\(email) is the last admin; appoint another admin first"
                }
            FileHandle.standardError.write(Data("reelbase: users set-role: \(reason)\n".utf8))
            throw ExitCode(1)
        }
    }
}
