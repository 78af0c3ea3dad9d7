import ArgumentParser
import Configuration
import Logging
import Testing

@testable import Reelbase

/// The settings as the commands read them: flags, then environment variables, through `AppConfiguration(reader:)`.
@Suite("Configuration")
struct ConfigurationTests {
    /// A command line and an environment, read the way `reelbase serve` reads them.
    static func serve(_ arguments: [String], environment: [String: String] = [:]) throws -> AppConfiguration {
        let commandLine = try SettingArguments<ServeCommand>.parse(arguments)
        return try AppConfiguration(reader: commandLine.reader(environment: EnvironmentVariablesProvider(environmentVariables: environment)))
    }

    static func message(_ body: () throws -> AppConfiguration) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? ConfigurationError)?.description ?? "not a ConfigurationError: \(error)"
        }
    }

    @Test func serveHelpListsEverySettingWithItsFlagVariableAndHelp() {
        let help = ReelbaseCommand.helpMessage(for: ServeCommand.self, columns: 10_000)
        for setting in AppConfiguration.settings {
            #expect(help.contains("\(setting.flag) <\(setting.environmentVariable)>: \(setting.help) Env: \(setting.environmentVariable)."))
        }
        #expect(help.contains("--port <PORT>: Port to listen on (0...65535, default 8080). Env: PORT."))
        #expect(AppConfiguration.settings.count == 40)
    }

    @Test func migrateSeedBenchAndSetRoleListOnlyTheSettingsTheyTake() {
        for command in [MigrateCommand.self, SeedBenchCommand.self, SetRoleCommand.self] as [ParsableCommand.Type] {
            let help = ReelbaseCommand.helpMessage(for: command, columns: 10_000)
            #expect(help.contains("--database-url <DATABASE_URL>: "))
            #expect(help.contains("--log-level <LOG_LEVEL>: "))
            #expect(!help.contains("--port <PORT>"))
        }
        #expect(ReelbaseCommand.helpMessage(for: SeedBenchCommand.self, columns: 10_000).contains("--users <users>"))
        #expect(ReelbaseCommand.helpMessage(for: SetRoleCommand.self, columns: 10_000).contains("--role <role>"))
    }

    @Test func aFlagWinsOverItsVariable() throws {
        let configuration = try Self.serve(["--port", "9000"], environment: ["PORT": "8000", "HOST": "0.0.0.0"])
        #expect(configuration.port == 9000)
        #expect(configuration.host == "0.0.0.0")
        // Only the value that is read counts: a bad variable under a good flag is never looked at, as before.
        #expect(try Self.serve(["--port=9001"], environment: ["PORT": "x"]).port == 9001)
        #expect(Self.message { try Self.serve(["--port", "x"], environment: ["PORT": "8000"]) } == "PORT must be an integer in 0...65535, got 'x'")
    }

    @Test func everySettingIsReachedThroughItsFlagAndItsVariable() throws {
        for setting in AppConfiguration.settings {
            let key = ConfigKey(setting.key)
            let fromFlag = ConfigReader(provider: CommandLineArgumentsProvider(arguments: ["reelbase", setting.flag, "v"]))
            let fromVariable = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: [setting.environmentVariable: "v"]))
            #expect(fromFlag.string(forKey: key) == "v", "\(setting.flag)")
            #expect(fromVariable.string(forKey: key) == "v", "\(setting.environmentVariable)")
        }
    }

    @Test func aBadValueNamesItsVariable() {
        let cases: [([String], [String: String], String)] = [
            (["--port", "x"], [:], "PORT must be an integer in 0...65535, got 'x'"),
            ([], ["PORT": "70000"], "PORT must be an integer in 0...65535, got '70000'"),
            ([], ["DATABASE_POOL_SIZE": "0"], "DATABASE_POOL_SIZE must be an integer in 1...1000, got '0'"),
            (["--bcrypt-cost", "3"], [:], "BCRYPT_COST must be an integer in 4...31, got '3'"),
            (["--log-level", "loud"], [:], "LOG_LEVEL has an unknown value 'loud'"),
            ([], ["ENVIRONMENT": "staging"], "ENVIRONMENT has an unknown value 'staging'"),
            (["--database-url", "mysql://x"], [:], "DATABASE_URL must be sqlite://PATH or postgres://user:pass@host:port/db, got 'mysql://x'"),
            (["--environment", "production"], [:], "JWT_SECRET is required when ENVIRONMENT=production"),
        ]
        for (arguments, environment, expected) in cases {
            #expect(Self.message { try Self.serve(arguments, environment: environment) } == expected)
        }
    }

    @Test func aBadValueExits78() async throws {
        let command = try #require(try ReelbaseCommand.parseAsRoot(["migrate", "--log-level", "loud"]) as? MigrateCommand)
        await #expect(throws: ExitCode(78)) { try await command.run() }
    }

    @Test func theTestFixtureReadsSettingsAsTheCommandDoes() throws {
        let settings = ["port": "x"]
        let fixture = Self.message { try TestApp.configuration(databaseURL: "sqlite://unused.sqlite", settings: settings) }
        #expect(fixture == Self.message { try Self.serve(["--port", "x"]) })
        let configuration = try TestApp.configuration(
            databaseURL: "sqlite://unused.sqlite", settings: ["port": "9000", "signup.bonus.credits": "7"])
        #expect(configuration.port == 9000)
        #expect(configuration.signupBonusCredits == 7)
        #expect(configuration.databasePoolSize == 6 && configuration.bcryptCost == 4 && configuration.serviceKey == "test-service-key")
    }

    @Test func unsetAndEmptyMeanTheDefault() throws {
        let defaults = try Self.serve([])
        #expect(defaults.host == "127.0.0.1" && defaults.port == 8080 && defaults.environment == .development)
        #expect(defaults.databaseURL == .sqlite(path: "reelbase.sqlite") && defaults.databasePoolSize == nil)
        #expect(defaults.jwtSecret == nil && defaults.logLevel == .info && defaults.bcryptCost == 12)
        // An empty ADMIN_EMAILS is unset like any other setting, so it does not stop start-up.
        let empty = try Self.serve(["--service-key="], environment: ["PORT": "", "ADMIN_EMAILS": "", "LOG_LEVEL": ""])
        #expect(empty.port == 8080 && empty.serviceKey == nil && empty.logLevel == .info)
    }

    @Test func valuesAreReadAsBefore() throws {
        let secret = "a,b-secret-that-is-long-enough-for-hs256"
        let configuration = try Self.serve(
            ["--jwt-secret", secret, "--log-level", "DEBUG", "--port", "1", "--port", "2"],
            environment: ["ENVIRONMENT": "Production", "DATABASE_URL": "postgres://u:p@db:6543/reelbase"].merging(Self.safeStripe) { $1 })
        #expect(configuration.jwtSecret == secret)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.environment == .production)
        #expect(configuration.port == 2)
        #expect(configuration.databaseURL == .postgres(host: "db", port: 6543, username: "u", password: "p", database: "reelbase"))
    }

    /// The Stripe settings production accepts.
    static let safeStripe = ["PAYMENT_GATEWAY": "stripe", "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"]

    @Test func productionRefusesEachUnsafeSettingNamingIt() throws {
        let production = ["ENVIRONMENT": "production", "JWT_SECRET": String(repeating: "j", count: 32)].merging(Self.safeStripe) { $1 }
        let accepted = try Self.serve([], environment: production.merging(["SERVICE_KEY": String(repeating: "k", count: 32), "BCRYPT_COST": "10"]) { $1 })
        #expect(accepted.environment == .production && accepted.paymentGateway == .stripe)

        let cases: [([String: String], String)] = [
            (["PAYMENT_GATEWAY": "mock"], "PAYMENT_GATEWAY=mock is refused when ENVIRONMENT=production: it accepts any tok_ token as paid"),
            (["JWT_SECRET": String(repeating: "j", count: 31)], "JWT_SECRET must be at least 32 bytes long"),
            (["SERVICE_KEY": String(repeating: "k", count: 31)], "SERVICE_KEY must be at least 32 bytes long when ENVIRONMENT=production"),
            (["BCRYPT_COST": "9"], "BCRYPT_COST must be at least 10 when ENVIRONMENT=production, got 9"),
            (["STRIPE_API_BASE": "http://api.stripe.com"],
             "STRIPE_API_BASE must be https:// when ENVIRONMENT=production, got 'http://api.stripe.com'"),
            (["STRIPE_WEBHOOK_SECRET": ""], "PAYMENT_GATEWAY=stripe requires STRIPE_WEBHOOK_SECRET"),
        ]
        for (change, expected) in cases {
            #expect(Self.message { try Self.serve([], environment: production.merging(change) { $1 }) } == expected, "\(change)")
        }
        // Development accepts all of them: the mock gateway, a short service key, cost 4, a local http fake.
        let development = ["SERVICE_KEY": "short", "BCRYPT_COST": "4", "STRIPE_API_BASE": "http://127.0.0.1:9"]
        #expect(try Self.serve([], environment: development).paymentGateway == .mock)
    }

    @Test func adminEmailsStopsStartUpPointingToSetRole() async throws {
        let expected =
            "ADMIN_EMAILS is no longer supported: roles live in the database: remove it and appoint admins with "
            + "`reelbase users set-role --email E --role admin`"
        #expect(Self.message { try Self.serve([], environment: ["ADMIN_EMAILS": "root@example.com"]) } == expected)
        #expect(Self.message { try Self.serve(["--admin-emails", "root@example.com,ops@example.com"]) } == expected)
        let serve = try #require(try ReelbaseCommand.parseAsRoot(["--admin-emails", "root@example.com", "--port", "0"]) as? ServeCommand)
        await #expect(throws: ExitCode(78)) { try await serve.run() }
    }

    @Test func theCommandLineIsCheckedAsOptionsWere() throws {
        #expect(throws: (any Error).self) { try SettingArguments<ServeCommand>.parse(["--prot", "9000"]) }
        #expect(throws: (any Error).self) { try SettingArguments<ServeCommand>.parse(["--port"]) }
        #expect(throws: (any Error).self) { try SettingArguments<ServeCommand>.parse(["--port", "--host", "x"]) }
        #expect(throws: (any Error).self) { try SettingArguments<ServeCommand>.parse(["9000"]) }
        #expect(throws: (any Error).self) { try ReelbaseCommand.parseAsRoot(["migrate", "--port", "9000"]) }
        #expect(try ReelbaseCommand.parseAsRoot(["--port", "9000"]) is ServeCommand)
        let seed = try #require(try ReelbaseCommand.parseAsRoot(["seed-bench", "--users", "5", "--database-url", "sqlite://x.sqlite", "--videos", "0", "--likes", "0", "--follows", "0"]) as? SeedBenchCommand)
        #expect(seed.users == 5)
        #expect(try AppConfiguration(reader: seed.commandLine.reader(environment: EnvironmentVariablesProvider(environmentVariables: [:]))).databaseURL
            == .sqlite(path: "x.sqlite"))
    }
}
