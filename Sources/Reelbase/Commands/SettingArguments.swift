import ArgumentParser
import Configuration

/// A command that takes some of ``AppConfiguration/settings`` on its command line.
protocol SettingsCommand {
    static var acceptedSettings: [AppConfiguration.Setting] { get }
}

/// The settings given on a command line, as `--flag value` or `--flag=value`, read by swift-configuration's
/// command-line provider in front of the environment.
///
/// A setting is declared once, in ``AppConfiguration/settings``, not again as an `@Option`: swift-argument-parser takes
/// the command's own options and hands the rest over unparsed, so they are checked here as it would check options
/// (unknown flag, missing value, stray argument: exit 64), and listed in the command's help.
struct SettingArguments<Command: SettingsCommand>: ParsableArguments {
    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp(
            "A setting, as --flag value or --flag=value:",
            // One paragraph each: the help wraps every line at the same indent, so only blank lines keep them apart.
            discussion: Command.acceptedSettings.map { "\($0.flag) <\($0.environmentVariable)>: \($0.help) Env: \($0.environmentVariable)." }
                .joined(separator: "\n\n"),
            valueName: "setting"
        )
    )
    var arguments: [String] = []

    func validate() throws {
        _ = try self.given()
    }

    /// The command line first, then the environment (the process's, unless a test passes its own).
    func reader(environment: EnvironmentVariablesProvider = EnvironmentVariablesProvider()) throws -> ConfigReader {
        // The last of a repeated flag wins, as with an `@Option`; the provider would otherwise see a list.
        let given = try Dictionary(self.given(), uniquingKeysWith: { $1 })
        return ConfigReader(providers: [
            CommandLineArgumentsProvider(arguments: ["reelbase"] + given.map { "\($0.key)=\($0.value)" }),
            environment,
        ])
    }

    /// Each flag with its value, in the order given.
    private func given() throws -> [(String, String)] {
        let settings = Dictionary(uniqueKeysWithValues: Command.acceptedSettings.map { ($0.flag, $0) })
        var given: [(String, String)] = []
        var rest = self.arguments[...]
        while let argument = rest.popFirst() {
            let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let flag = String(parts[0])
            guard flag.hasPrefix("-") else { throw ValidationError("Unexpected argument '\(argument)'") }
            guard let setting = settings[flag] else { throw ValidationError("Unknown option '\(flag)'") }
            if parts.count == 2 {
                given.append((flag, String(parts[1])))
            } else if let value = rest.popFirst(), !value.hasPrefix("--") {
                given.append((flag, value))
            } else {
                throw ValidationError("Missing value for '\(flag) <\(setting.environmentVariable)>'")
            }
        }
        return given
    }
}
