import Configuration
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import Reelbase

/// The databases every database test runs on.
enum TestDatabase: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { self.rawValue }

    /// Where the throwaway PostgreSQL server of `scripts/test.sh` listens (its `postgres` database).
    static var postgresAdminURL: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["REELBASE_TEST_POSTGRES_URL"], !url.isEmpty else {
                throw TestSetupError(
                    "REELBASE_TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh, which starts PostgreSQL")
            }
            return url
        }
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Builds the real application on a fresh, empty database of the given kind and drives it in memory.
enum TestApp {
    static let logger: Logger = {
        var logger = Logger(label: "reelbase-test")
        logger.logLevel = ProcessInfo.processInfo.environment["REELBASE_TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }()

    /// Settings every test starts from; a test adds or overrides keys with `settings`.
    static let baseSettings: [String: String] = [
        "jwt.secret": "test-secret-that-is-long-enough-for-hs256",
        "bcrypt.cost": "4",
        "database.pool.size": "6",
        "service.key": "test-service-key",
        // API.md's limits, except registrations: in `.router` mode every request comes from the one address `unknown`,
        // and a case may register more users than register_ip's 20 (a suite that tests a limit sets its own).
        "rate.limits": "register_ip=1000/1h",
    ]

    /// The configuration `reelbase serve` would build from these settings as flags or environment variables: the same
    /// `AppConfiguration(reader:)`, with each value typed as its setting declares, as those providers type it.
    static func configuration(databaseURL: String, settings: [String: String]) throws -> AppConfiguration {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, text) in baseSettings.merging(settings, uniquingKeysWith: { $1 }).merging(["database.url": databaseURL], uniquingKeysWith: { $1 }) {
            let setting = try #require(AppConfiguration.settings.first { $0.key == key }, "no setting \(key)")
            let content: ConfigContent
            switch setting.type {
            // A text that is no integer stays text, so that the app's own message reports it, as it would from a flag.
            case .int: content = Int(text).map(ConfigContent.int) ?? .string(text)
            case .stringArray: content = .stringArray(text.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
            default: content = .string(text)
            }
            values[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = ConfigValue(content, isSecret: false)
        }
        return try AppConfiguration(reader: ConfigReader(provider: InMemoryProvider(values: values)))
    }

    /// Runs `body` against a new app whose database is new and empty, then removes that database.
    /// `statements`, when given, records every SQL statement the app sends.
    static func run(
        _ database: TestDatabase,
        settings: [String: String] = [:],
        statements: StatementLog? = nil,
        _ body: @escaping @Sendable (TestClient) async throws -> Void
    ) async throws {
        try await withFreshDatabase(database) { url in
            let configuration = try configuration(databaseURL: url, settings: settings)
            let app = try await buildApplication(configuration: configuration, logger: logger, statementObserver: statements?.observer)
            return try await app.test(.router) { client in
                try await body(TestClient(client: client, databaseURL: url))
            }
        }
    }

    /// A new empty database for one test: a temporary SQLite file, or a new PostgreSQL database.
    static func withFreshDatabase<R: Sendable>(
        _ database: TestDatabase,
        _ body: @escaping @Sendable (String) async throws -> R
    ) async throws -> R {
        switch database {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reelbase-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            return try await body("sqlite://\(directory.path)/test.sqlite")
        case .postgres:
            let adminURL = try TestDatabase.postgresAdminURL
            let name = "reelbase_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
            try await admin(adminURL) { db in try await db.sql.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
            let result: Result<R, any Error>
            do {
                var url = try #require(URLComponents(string: adminURL))
                url.path = "/\(name)"
                result = .success(try await body(try #require(url.string)))
            } catch {
                result = .failure(error)
            }
            try await admin(adminURL) { db in try await db.sql.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run() }
            return try result.get()
        }
    }

    static func admin(_ url: String, _ body: @escaping @Sendable (Reelbase.Database) async throws -> Void) async throws {
        try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: logger, body)
    }
}
