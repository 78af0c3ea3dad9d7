import Configuration
import Foundation
import Logging

/// A setting that cannot be used; start-up stops with its message.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }

    /// Reads the JSON file a setting names (a catalog of packages, effects or plans); one that cannot be read or
    /// decoded stops start-up naming the setting, the file and why.
    static func decodeFile<File: Decodable>(_ type: File.Type, at path: String, setting: String, holding what: String) throws -> File {
        do {
            return try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ConfigurationError("\(setting) \(path) is not a valid \(what) file: \(error)")
        }
    }
}

/// Everything `reelbase serve` can be told, read once at start-up.
///
/// A setting is its property here (type and default) and its row in ``settings`` (key, range, help); nothing else
/// names it. The key is a `swift-configuration` key: the environment variable is the key in upper snake case
/// (`database.url` → `DATABASE_URL`) and the flag the key in dashes (`--database-url`). Commands read flags before
/// the environment, tests read values in memory, all through ``init(reader:)``.
public struct AppConfiguration: Sendable {
    public enum Environment: String, Sendable { case development, production }
    public enum PaymentGatewayKind: String, Sendable { case mock, stripe }

    public var host = "127.0.0.1"
    public var port = 8080
    /// Seconds a connection may take to send a complete request head (from connecting, or from its first byte after
    /// an idle keep-alive pause).
    public var requestHeadTimeout = 30
    /// Seconds a request body may take to arrive, from its head; then `408` and the connection is closed.
    public var requestBodyTimeout = 30
    /// Seconds a keep-alive connection may stay idle between requests.
    public var idleTimeout = 60
    public var environment = Environment.development
    public var databaseURL = DatabaseURL.sqlite(path: "reelbase.sqlite")
    /// Maximum pooled PostgreSQL connections of this instance (`nil`: four per core, at least eight).
    public var databasePoolSize: Int?
    /// `nil` means: generate a random secret at start (development only; tokens die with the process).
    public var jwtSecret: String?
    public var accessTokenTTL = 900
    public var refreshTokenTTL = 2_592_000
    public var signupBonusCredits = 0
    /// Days before a signup bonus's credits expire (`nil`: never).
    public var signupBonusTTLDays: Int?
    /// Credits a referrer gets when a user they invited first pays.
    public var referralRewardCredits = 100
    /// Credits that invited user gets then.
    public var referralWelcomeCredits = 50
    /// Referral rewards one referrer gets per UTC month.
    public var referralMonthlyLimit = 20
    /// Days before referral bonuses' credits expire (`nil`: never).
    public var referralBonusTTLDays: Int?
    /// Seconds between the expiry sweeper's passes; the audit reports lots unexpired two passes after their expiry.
    public var expirySweepSeconds = 60
    /// Seconds before a lot's expiry that the sweeper tells its owner (`credits_expiring`); a shorter lot, at once.
    public var creditsExpiringNoticeSeconds = 259_200
    /// JSON replacing the built-in subscription plans.
    public var subscriptionPlansFile: String?
    /// Mock gateway only: the length of a subscription period in seconds (`nil`: calendar months).
    public var subscriptionPeriodSeconds: Int?
    /// Mock gateway only: how long a failed renewal is retried (at ⅓, ⅔ and the end) before it is canceled.
    public var subscriptionGraceSeconds = 604_800
    public var serviceKey: String?
    public var paymentGateway = PaymentGatewayKind.mock
    public var stripeSecretKey: String?
    public var stripeWebhookSecret: String?
    public var stripeAPIBase = "https://api.stripe.com"
    /// Stripe's publishable key (`pk_…`), handed to web clients by `GET /v1/payments/config` for Stripe.js.
    public var stripePublishableKey: String?
    /// Serve the web app from this folder instead of the copy shipped with the server (edit and reload, no rebuild).
    public var webAppDirectory: String?
    public var effectJobTimeout = 600
    /// Seconds a payment stays pending before the reconciler settles it from the gateway's record.
    public var reconcileAfterSeconds = 60
    /// Seconds back that `Last-Event-ID` replays a user's events; older ones are pruned and answer `reset`.
    public var eventReplaySeconds = 600
    /// Seconds between the comment lines of an idle event stream (API.md: at least every 15 s); tests shorten it.
    public var eventHeartbeatSeconds = 15
    public var creditPackagesFile: String?
    public var effectsFile: String?
    public var logLevel = Logger.Level.info
    /// bcrypt work factor: 12 costs ~0.25 s of one core per hash here; tests lower it to bcrypt's minimum, 4.
    public var bcryptCost = 12
    var rateLimits = RateLimits.defaults
    var trustedProxies = TrustedProxies.none

    public init() {}

    /// Every setting, in the order `--help` lists them. A non-optional property's initial value is its default, and
    /// the help line says so; an optional one's `unset` says what leaving it out means.
    public static let settings: [Setting] = [
        .string("host", \.host, help: "Address to listen on"),
        .int("port", \.port, in: 0...65535, help: "Port to listen on"),
        .int(
            "request.head.timeout", \.requestHeadTimeout, in: 1...3600,
            help: "Seconds a connection may take to send a complete request head before it is closed"),
        .int(
            "request.body.timeout", \.requestBodyTimeout, in: 1...3600,
            help: "Seconds a request body may take to arrive before the request is answered 408 and the connection closed"),
        .int("idle.timeout", \.idleTimeout, in: 1...86_400, help: "Seconds an idle keep-alive connection is kept open"),
        .choice("environment", \.environment, help: "development or production; production requires JWT_SECRET and refuses unsafe settings (mock gateway, short secrets, low BCRYPT_COST, http Stripe)"),
        .databaseURL("database.url", \.databaseURL, help: "sqlite://PATH or postgres://user:pass@host:port/db"),
        .int(
            "database.pool.size", \.databasePoolSize, in: 1...1000, unset: "4 per core, at least 8",
            help: "Maximum PostgreSQL connections of this instance"),
        .string("jwt.secret", \.jwtSecret, secret: true, unset: "random per start, with a warning", help: "HMAC key for access tokens"),
        .int("access.token.ttl", \.accessTokenTTL, in: 1...86_400 * 7, help: "Access-token lifetime in seconds"),
        .int("refresh.token.ttl", \.refreshTokenTTL, in: 60...86_400 * 365, help: "Refresh-token lifetime in seconds"),
        .int("signup.bonus.credits", \.signupBonusCredits, in: 0...1_000_000, help: "Credits granted as a bonus row at registration"),
        .int(
            "signup.bonus.ttl.days", \.signupBonusTTLDays, in: 1...3650, unset: "never expire",
            help: "Days before the signup bonus's credits expire"),
        .int(
            "referral.reward.credits", \.referralRewardCredits, in: 0...1_000_000,
            help: "Credits a referrer gets when a user they invited first pays"),
        .int(
            "referral.welcome.credits", \.referralWelcomeCredits, in: 0...1_000_000,
            help: "Credits an invited user gets with their first payment"),
        .int(
            "referral.monthly.limit", \.referralMonthlyLimit, in: 0...1_000_000,
            help: "Referral rewards one referrer gets per UTC month"),
        .int(
            "referral.bonus.ttl.days", \.referralBonusTTLDays, in: 1...3650, unset: "never expire",
            help: "Days before referral bonuses' credits expire"),
        .int(
            "expiry.sweep.seconds", \.expirySweepSeconds, in: 1...86_400,
            help: "Seconds between the passes that expire credit lots past their expiry"),
        .string("subscription.plans.file", \.subscriptionPlansFile, help: "JSON file replacing the built-in subscription plans"),
        .int(
            "subscription.period.seconds", \.subscriptionPeriodSeconds, in: 10...31_536_000, unset: "calendar months",
            help: "Mock gateway only: the length of a subscription period in seconds"),
        .int(
            "subscription.grace.seconds", \.subscriptionGraceSeconds, in: 1...31_536_000,
            help: "Mock gateway only: seconds a failed renewal is retried (at 1/3, 2/3 and the end) before the subscription is canceled"),
        .int(
            "credits.expiring.notice.seconds", \.creditsExpiringNoticeSeconds, in: 1...31_536_000,
            help: "Seconds before a credit lot expires that the expiry sweeper sends its owner a credits_expiring notification"),
        .retired(
            "admin.emails",
            because: "roles live in the database: remove it and appoint admins with `reelbase users set-role --email E --role admin`"),
        .string(
            "service.key", \.serviceKey, secret: true, unset: "unset: internal endpoints answer 401",
            help: "Bearer key of the effect workers"),
        .choice("payment.gateway", \.paymentGateway, help: "mock or stripe"),
        .string("stripe.secret.key", \.stripeSecretKey, secret: true, help: "Stripe secret API key (required with --payment-gateway stripe)"),
        .string("stripe.webhook.secret", \.stripeWebhookSecret, secret: true, help: "Stripe webhook signing secret (whsec_…)"),
        .string("stripe.api.base", \.stripeAPIBase, help: "Stripe API base URL"),
        .string(
            "stripe.publishable.key", \.stripePublishableKey, unset: "none: the web app cannot collect cards with Stripe.js",
            help: "Stripe publishable key (pk_...), handed to web clients by GET /v1/payments/config"),
        .string(
            "web.app.directory", \.webAppDirectory, unset: "the files shipped with the server",
            help: "Folder the web app at / is served from (development: edit and reload without a rebuild)"),
        .int(
            "effect.job.timeout", \.effectJobTimeout, in: 1...86_400,
            help: "Seconds a claimed effect job may run before it is failed and refunded"),
        .int(
            "reconcile.after.seconds", \.reconcileAfterSeconds, in: 1...86_400,
            help: "Age in seconds of a pending payment before the reconciler settles it from the gateway's record"),
        .int(
            "event.replay.seconds", \.eventReplaySeconds, in: 1...86_400,
            help: "How far back in seconds Last-Event-ID replays a user's events on GET /v1/events"),
        .int(
            "event.heartbeat.seconds", \.eventHeartbeatSeconds, in: 1...15,
            help: "Seconds between the keep-alive comment lines of an idle event stream"),
        .string("credit.packages.file", \.creditPackagesFile, help: "JSON file replacing the built-in credit packages"),
        .string("effects.file", \.effectsFile, help: "JSON file replacing the built-in effects"),
        .choice("log.level", \.logLevel, help: "trace, debug, info, notice, warning, error or critical"),
        .int("bcrypt.cost", \.bcryptCost, in: 4...31, help: "bcrypt work factor for password hashes"),
        .parsed(
            "rate.limits", \.rateLimits, parse: RateLimits.init(parsing:),
            help: "Abuse limits: off, or NAME=COUNT/WINDOW overrides (units s m h d); unlisted names keep their defaults"),
        .parsed(
            "trusted.proxies", \.trustedProxies, parse: TrustedProxies.init(parsing:),
            help: "Comma-separated addresses/CIDRs of proxies whose X-Forwarded-For is believed"),
    ]

    /// Reads and checks every setting; the first unusable one stops start-up with a message naming it.
    public init(reader: ConfigReader) throws {
        self.init()
        for setting in Self.settings {
            try setting.read(reader, &self)
        }
        try self.validate()
    }

    /// Combinations of settings that cannot work together, and what production refuses (API.md, Operations).
    public func validate() throws {
        if self.environment == .production && self.jwtSecret == nil {
            throw ConfigurationError("JWT_SECRET is required when ENVIRONMENT=production")
        }
        if let secret = self.jwtSecret, secret.utf8.count < 32 {
            throw ConfigurationError("JWT_SECRET must be at least 32 bytes long")
        }
        if self.environment == .production {
            try self.validateForProduction()
        }
        if self.paymentGateway == .stripe && self.stripeSecretKey == nil {
            throw ConfigurationError("PAYMENT_GATEWAY=stripe requires STRIPE_SECRET_KEY")
        }
        if self.paymentGateway == .stripe && self.stripeWebhookSecret == nil {
            throw ConfigurationError("PAYMENT_GATEWAY=stripe requires STRIPE_WEBHOOK_SECRET")
        }
        if self.paymentGateway == .stripe && self.subscriptionPeriodSeconds != nil {
            throw ConfigurationError("SUBSCRIPTION_PERIOD_SECONDS works with the mock gateway only: Stripe Billing sets the periods")
        }
    }

    /// Settings that are fine for development but unsafe with real users and money.
    private func validateForProduction() throws {
        if self.paymentGateway == .mock {
            throw ConfigurationError("PAYMENT_GATEWAY=mock is refused when ENVIRONMENT=production: it accepts any tok_ token as paid")
        }
        if let key = self.serviceKey, key.utf8.count < 32 {
            throw ConfigurationError("SERVICE_KEY must be at least 32 bytes long when ENVIRONMENT=production")
        }
        if self.bcryptCost < 10 {
            throw ConfigurationError("BCRYPT_COST must be at least 10 when ENVIRONMENT=production, got \(self.bcryptCost)")
        }
        if self.stripeAPIBase.lowercased().hasPrefix("http://") {
            throw ConfigurationError("STRIPE_API_BASE must be https:// when ENVIRONMENT=production, got '\(self.stripeAPIBase)'")
        }
    }

    /// The settings that fill the given properties, in the order of ``settings`` (for commands that take only a few).
    public static func settings(for properties: [PartialKeyPath<AppConfiguration>]) -> [Setting] {
        self.settings.filter { setting in setting.property.map { properties.contains($0) } ?? false }
    }
}

extension AppConfiguration {
    /// One setting: its key, its help, the type its providers give, and how it fills its property.
    public struct Setting: Sendable {
        public let key: String
        /// The help line, ending with the range and the default where there are.
        public let help: String
        /// What a provider holds for it: in-memory values (the tests') must be of this type.
        public let type: ConfigType
        /// `nil` for a retired setting, which fills nothing.
        let property: (PartialKeyPath<AppConfiguration> & Sendable)?
        let read: @Sendable (ConfigReader, inout AppConfiguration) throws -> Void

        public var environmentVariable: String { Self.environmentVariable(self.key) }
        public var flag: String { "--" + self.key.replacingOccurrences(of: ".", with: "-") }

        fileprivate static func environmentVariable(_ key: String) -> String {
            key.uppercased().replacingOccurrences(of: ".", with: "_")
        }

        private static func make<Value>(
            _ key: String, _ property: WritableKeyPath<AppConfiguration, Value> & Sendable, type: ConfigType,
            help: String, notes: [String], read: @escaping @Sendable (ConfigReader) throws -> Value?
        ) -> Setting {
            Setting(
                key: key, help: help + (notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))") + ".", type: type,
                property: property,
                read: { reader, configuration in
                    if let value = try read(reader) { configuration[keyPath: property] = value }
                })
        }

        private static func defaultNote<Value>(_ property: KeyPath<AppConfiguration, Value>, _ describe: (Value) -> String) -> String {
            "default \(describe(AppConfiguration()[keyPath: property]))"
        }

        static func string(_ key: String, _ property: WritableKeyPath<AppConfiguration, String> & Sendable, help: String) -> Setting {
            make(key, property, type: .string, help: help, notes: [defaultNote(property) { $0 }]) { $0.text(key, isSecret: false) }
        }

        static func string(
            _ key: String, _ property: WritableKeyPath<AppConfiguration, String?> & Sendable, secret: Bool = false,
            unset: String? = nil, help: String
        ) -> Setting {
            make(key, property, type: .string, help: help, notes: unset.map { ["default \($0)"] } ?? []) {
                $0.text(key, isSecret: secret).map(Optional.some)
            }
        }

        static func int(
            _ key: String, _ property: WritableKeyPath<AppConfiguration, Int> & Sendable, in range: ClosedRange<Int>, help: String
        ) -> Setting {
            make(key, property, type: .int, help: help, notes: [range.description, defaultNote(property, String.init)]) {
                try $0.int(key, in: range)
            }
        }

        static func int(
            _ key: String, _ property: WritableKeyPath<AppConfiguration, Int?> & Sendable, in range: ClosedRange<Int>,
            unset: String, help: String
        ) -> Setting {
            make(key, property, type: .int, help: help, notes: [range.description, "default \(unset)"]) {
                try $0.int(key, in: range).map(Optional.some)
            }
        }

        static func choice<Value: RawRepresentable<String> & Sendable>(
            _ key: String, _ property: WritableKeyPath<AppConfiguration, Value> & Sendable, help: String
        ) -> Setting {
            make(key, property, type: .string, help: help, notes: [defaultNote(property, \.rawValue)]) {
                try $0.typed(key, isSecret: false, { $0.string(forKey: ConfigKey(key), as: CaseInsensitive<Value>.self)?.value }) {
                    ConfigurationError("\(environmentVariable(key)) has an unknown value '\($0)'")
                }
            }
        }

        static func databaseURL(_ key: String, _ property: WritableKeyPath<AppConfiguration, DatabaseURL> & Sendable, help: String) -> Setting {
            make(key, property, type: .string, help: help, notes: [defaultNote(property, \.redactedDescription)]) { reader in
                try reader.text(key, isSecret: false).map(DatabaseURL.init)
            }
        }

        /// A setting that is no longer read: still listed, so that `--help` says where it went, and refused when set
        /// (empty counts as unset, as everywhere), so that nobody believes it still does something.
        static func retired(_ key: String, because reason: String) -> Setting {
            Setting(
                key: key, help: "Gone: start-up with it set exits 78; \(reason).", type: .string, property: nil,
                read: { reader, _ in
                    if reader.text(key, isSecret: false) != nil {
                        throw ConfigurationError("\(environmentVariable(key)) is no longer supported: \(reason)")
                    }
                })
        }

        /// A value with a syntax of its own: `parse` throws a ``SettingSyntaxError`` saying what is wrong, and the message
        /// puts the variable's name in front (`RATE_LIMITS has a malformed entry …`).
        static func parsed<Value: CustomStringConvertible & Sendable>(
            _ key: String, _ property: WritableKeyPath<AppConfiguration, Value> & Sendable,
            parse: @escaping @Sendable (String) throws -> Value, help: String
        ) -> Setting {
            make(key, property, type: .string, help: help, notes: [defaultNote(property, \.description)]) { reader in
                try reader.text(key, isSecret: false).map { text in
                    do {
                        return try parse(text)
                    } catch {
                        throw ConfigurationError("\(environmentVariable(key)) \(error)")
                    }
                }
            }
        }
    }
}

/// A string choice read case-insensitively, as settings always were (`LOG_LEVEL=DEBUG` works).
private struct CaseInsensitive<Value: RawRepresentable<String>>: ExpressibleByConfigString {
    let value: Value
    init?(configString: String) {
        guard let value = Value(rawValue: configString.lowercased()) else { return nil }
        self.value = value
    }
    var description: String { self.value.rawValue }
}

extension ConfigReader {
    /// A setting as written, `nil` when unset or empty (an empty variable, as `PORT=` in a compose file, means unset).
    /// The command-line provider splits `--key a,b` at the comma; a string setting takes it back whole.
    fileprivate func text(_ key: String, isSecret: Bool) -> String? {
        let key = ConfigKey(key)
        guard let text = self.string(forKey: key, isSecret: isSecret) ?? self.stringArray(forKey: key, isSecret: isSecret)?.joined(separator: ","),
            !text.isEmpty
        else { return nil }
        return text
    }

    /// A typed read that tells unset from unusable: the typed readers answer `nil` for both, so the text decides.
    fileprivate func typed<Value>(
        _ key: String, isSecret: Bool, _ read: (ConfigReader) -> Value?, invalid: (String) -> ConfigurationError
    ) throws -> Value? {
        if let value = read(self) { return value }
        guard let text = self.text(key, isSecret: isSecret) else { return nil }
        throw invalid(text)
    }

    fileprivate func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        let invalid = { (text: String) in
            ConfigurationError(
                "\(AppConfiguration.Setting.environmentVariable(key)) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        guard let value = try self.typed(key, isSecret: false, { $0.int(forKey: ConfigKey(key)) }, invalid: invalid) else { return nil }
        guard range.contains(value) else { throw invalid(self.text(key, isSecret: false) ?? String(value)) }
        return value
    }
}
