import Configuration
import Foundation
import Logging

/// A setting that cannot be used; start-up stops with its message.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Everything `reelbase serve` can be told, read once at start-up.
///
/// Each setting is a key of `swift-configuration`: the environment variable is the key in upper snake case
/// (`database.url` → `DATABASE_URL`), and `reelbase serve` turns each `--flag` into the same key, so flags win
/// over the environment. Tests pass values in memory.
public struct AppConfiguration: Sendable {
    public enum Environment: String, Sendable { case development, production }
    public enum PaymentGatewayKind: String, Sendable { case mock, stripe }

    public var host = "127.0.0.1"
    public var port = 8080
    public var environment = Environment.development
    public var databaseURL = DatabaseURL.sqlite(path: "reelbase.sqlite")
    /// Maximum pooled PostgreSQL connections of this instance (`nil`: four per core, at least eight).
    public var databasePoolSize: Int?
    /// `nil` means: generate a random secret at start (development only; tokens die with the process).
    public var jwtSecret: String?
    public var accessTokenTTL = 900
    public var refreshTokenTTL = 2_592_000
    public var signupBonusCredits = 0
    public var adminEmails: Set<String> = []
    public var serviceKey: String?
    public var paymentGateway = PaymentGatewayKind.mock
    public var stripeSecretKey: String?
    public var stripeWebhookSecret: String?
    public var stripeAPIBase = "https://api.stripe.com"
    public var effectJobTimeout = 600
    public var creditPackagesFile: String?
    public var effectsFile: String?
    public var logLevel = Logger.Level.info
    /// bcrypt work factor: 12 costs ~0.25 s of one core per hash here; tests lower it to bcrypt's minimum, 4.
    public var bcryptCost = 12

    public init() {}

    /// One row per setting: the key, its environment variable, and the help text of its flag.
    public struct Setting: Sendable {
        public var key: String
        public var help: String
        public var environmentVariable: String { self.key.uppercased().replacingOccurrences(of: ".", with: "_") }
        public var flag: String { self.key.replacingOccurrences(of: ".", with: "-") }
    }

    public static let settings: [Setting] = [
        Setting(key: "host", help: "Address to listen on (default 127.0.0.1)."),
        Setting(key: "port", help: "Port to listen on (default 8080)."),
        Setting(key: "environment", help: "development or production; production requires JWT_SECRET (default development)."),
        Setting(key: "database.url", help: "sqlite://PATH or postgres://user:pass@host:port/db (default sqlite://reelbase.sqlite)."),
        Setting(key: "database.pool.size", help: "Maximum PostgreSQL connections of this instance (default 4 per core, at least 8)."),
        Setting(key: "jwt.secret", help: "HMAC key for access tokens (default: random per start, with a warning)."),
        Setting(key: "access.token.ttl", help: "Access-token lifetime in seconds (default 900)."),
        Setting(key: "refresh.token.ttl", help: "Refresh-token lifetime in seconds (default 2592000)."),
        Setting(key: "signup.bonus.credits", help: "Credits granted as a bonus row at registration (default 0)."),
        Setting(key: "admin.emails", help: "Comma-separated emails of admins (default none)."),
        Setting(key: "service.key", help: "Bearer key of the effect workers (default unset: internal endpoints answer 401)."),
        Setting(key: "payment.gateway", help: "mock or stripe (default mock)."),
        Setting(key: "stripe.secret.key", help: "Stripe secret API key (required with --payment-gateway stripe)."),
        Setting(key: "stripe.webhook.secret", help: "Stripe webhook signing secret (whsec_…)."),
        Setting(key: "stripe.api.base", help: "Stripe API base URL (default https://api.stripe.com)."),
        Setting(key: "effect.job.timeout", help: "Seconds a claimed effect job may run before it is failed and refunded (default 600)."),
        Setting(key: "credit.packages.file", help: "JSON file replacing the built-in credit packages."),
        Setting(key: "effects.file", help: "JSON file replacing the built-in effects."),
        Setting(key: "log.level", help: "trace, debug, info, notice, warning, error or critical (default info)."),
        Setting(key: "bcrypt.cost", help: "bcrypt work factor for password hashes, 4-31 (default 12)."),
    ]

    /// Reads and checks every setting; the first unusable one stops start-up with a message naming it.
    public init(reader: ConfigReader) throws {
        func string(_ key: String) -> String? {
            guard let value = reader.string(forKey: ConfigKey(key), isSecret: key.contains("secret") || key.contains("key")),
                !value.isEmpty
            else { return nil }
            return value
        }
        func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let text = string(key) else { return nil }
            guard let value = Int(text), range.contains(value) else {
                let name = key.uppercased().replacingOccurrences(of: ".", with: "_")
                throw ConfigurationError("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
            }
            return value
        }
        func choice<T: RawRepresentable<String>>(_ key: String, _ type: T.Type) throws -> T? {
            guard let text = string(key) else { return nil }
            guard let value = T(rawValue: text.lowercased()) else {
                let name = key.uppercased().replacingOccurrences(of: ".", with: "_")
                throw ConfigurationError("\(name) has an unknown value '\(text)'")
            }
            return value
        }

        self.init()
        self.host = string("host") ?? self.host
        self.port = try int("port", in: 0...65535) ?? self.port
        self.environment = try choice("environment", Environment.self) ?? self.environment
        if let url = string("database.url") { self.databaseURL = try DatabaseURL(url) }
        self.databasePoolSize = try int("database.pool.size", in: 1...1000)
        self.jwtSecret = string("jwt.secret")
        self.accessTokenTTL = try int("access.token.ttl", in: 1...86_400 * 7) ?? self.accessTokenTTL
        self.refreshTokenTTL = try int("refresh.token.ttl", in: 60...86_400 * 365) ?? self.refreshTokenTTL
        self.signupBonusCredits = try int("signup.bonus.credits", in: 0...1_000_000) ?? self.signupBonusCredits
        self.adminEmails = Set(
            (string("admin.emails") ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                .filter { !$0.isEmpty }
        )
        self.serviceKey = string("service.key")
        self.paymentGateway = try choice("payment.gateway", PaymentGatewayKind.self) ?? self.paymentGateway
        self.stripeSecretKey = string("stripe.secret.key")
        self.stripeWebhookSecret = string("stripe.webhook.secret")
        self.stripeAPIBase = string("stripe.api.base") ?? self.stripeAPIBase
        self.effectJobTimeout = try int("effect.job.timeout", in: 1...86_400) ?? self.effectJobTimeout
        self.creditPackagesFile = string("credit.packages.file")
        self.effectsFile = string("effects.file")
        self.logLevel = try choice("log.level", Logger.Level.self) ?? self.logLevel
        self.bcryptCost = try int("bcrypt.cost", in: 4...31) ?? self.bcryptCost
        try self.validate()
    }

    /// Combinations of settings that cannot work together.
    public func validate() throws {
        if self.environment == .production && self.jwtSecret == nil {
            throw ConfigurationError("JWT_SECRET is required when ENVIRONMENT=production")
        }
        if let secret = self.jwtSecret, secret.utf8.count < 32 {
            throw ConfigurationError("JWT_SECRET must be at least 32 bytes long")
        }
        if self.paymentGateway == .stripe && self.stripeSecretKey == nil {
            throw ConfigurationError("PAYMENT_GATEWAY=stripe requires STRIPE_SECRET_KEY")
        }
        if self.paymentGateway == .stripe && self.stripeWebhookSecret == nil {
            throw ConfigurationError("PAYMENT_GATEWAY=stripe requires STRIPE_WEBHOOK_SECRET")
        }
    }
}

extension AppConfiguration {
    /// The help line of a setting, naming its environment variable.
    public static func help(_ key: String) -> String {
        guard let setting = settings.first(where: { $0.key == key }) else { return key }
        return "\(setting.help) Env: \(setting.environmentVariable)."
    }
}
