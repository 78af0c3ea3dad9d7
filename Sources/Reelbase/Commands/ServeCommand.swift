import ArgumentParser
import Hummingbird
import Logging

/// `reelbase serve` (the default): applies migrations and serves the API until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Apply migrations and serve the HTTP API.",
        discussion: "Every option is also an environment variable (the name shown in capitals); an option given here wins."
    )

    @Option(name: .customLong("host"), help: ArgumentHelp(AppConfiguration.help("host"), valueName: "HOST"))
    var host: String?

    @Option(name: .customLong("port"), help: ArgumentHelp(AppConfiguration.help("port"), valueName: "PORT"))
    var port: String?

    @Option(name: .customLong("environment"), help: ArgumentHelp(AppConfiguration.help("environment"), valueName: "ENVIRONMENT"))
    var environment: String?

    @Option(name: .customLong("database-url"), help: ArgumentHelp(AppConfiguration.help("database.url"), valueName: "DATABASE_URL"))
    var databaseURL: String?

    @Option(name: .customLong("database-pool-size"), help: ArgumentHelp(AppConfiguration.help("database.pool.size"), valueName: "DATABASE_POOL_SIZE"))
    var databasePoolSize: String?

    @Option(name: .customLong("jwt-secret"), help: ArgumentHelp(AppConfiguration.help("jwt.secret"), valueName: "JWT_SECRET"))
    var jwtSecret: String?

    @Option(name: .customLong("access-token-ttl"), help: ArgumentHelp(AppConfiguration.help("access.token.ttl"), valueName: "ACCESS_TOKEN_TTL"))
    var accessTokenTTL: String?

    @Option(name: .customLong("refresh-token-ttl"), help: ArgumentHelp(AppConfiguration.help("refresh.token.ttl"), valueName: "REFRESH_TOKEN_TTL"))
    var refreshTokenTTL: String?

    @Option(name: .customLong("signup-bonus-credits"), help: ArgumentHelp(AppConfiguration.help("signup.bonus.credits"), valueName: "SIGNUP_BONUS_CREDITS"))
    var signupBonusCredits: String?

    @Option(name: .customLong("admin-emails"), help: ArgumentHelp(AppConfiguration.help("admin.emails"), valueName: "ADMIN_EMAILS"))
    var adminEmails: String?

    @Option(name: .customLong("service-key"), help: ArgumentHelp(AppConfiguration.help("service.key"), valueName: "SERVICE_KEY"))
    var serviceKey: String?

    @Option(name: .customLong("payment-gateway"), help: ArgumentHelp(AppConfiguration.help("payment.gateway"), valueName: "PAYMENT_GATEWAY"))
    var paymentGateway: String?

    @Option(name: .customLong("stripe-secret-key"), help: ArgumentHelp(AppConfiguration.help("stripe.secret.key"), valueName: "STRIPE_SECRET_KEY"))
    var stripeSecretKey: String?

    @Option(name: .customLong("stripe-webhook-secret"), help: ArgumentHelp(AppConfiguration.help("stripe.webhook.secret"), valueName: "STRIPE_WEBHOOK_SECRET"))
    var stripeWebhookSecret: String?

    @Option(name: .customLong("stripe-api-base"), help: ArgumentHelp(AppConfiguration.help("stripe.api.base"), valueName: "STRIPE_API_BASE"))
    var stripeAPIBase: String?

    @Option(name: .customLong("effect-job-timeout"), help: ArgumentHelp(AppConfiguration.help("effect.job.timeout"), valueName: "EFFECT_JOB_TIMEOUT"))
    var effectJobTimeout: String?

    @Option(name: .customLong("credit-packages-file"), help: ArgumentHelp(AppConfiguration.help("credit.packages.file"), valueName: "CREDIT_PACKAGES_FILE"))
    var creditPackagesFile: String?

    @Option(name: .customLong("effects-file"), help: ArgumentHelp(AppConfiguration.help("effects.file"), valueName: "EFFECTS_FILE"))
    var effectsFile: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp(AppConfiguration.help("log.level"), valueName: "LOG_LEVEL"))
    var logLevel: String?

    @Option(name: .customLong("bcrypt-cost"), help: ArgumentHelp(AppConfiguration.help("bcrypt.cost"), valueName: "BCRYPT_COST"))
    var bcryptCost: String?

    var flags: [String: String?] {
        [
            "host": self.host,
            "port": self.port,
            "environment": self.environment,
            "database.url": self.databaseURL,
            "database.pool.size": self.databasePoolSize,
            "jwt.secret": self.jwtSecret,
            "access.token.ttl": self.accessTokenTTL,
            "refresh.token.ttl": self.refreshTokenTTL,
            "signup.bonus.credits": self.signupBonusCredits,
            "admin.emails": self.adminEmails,
            "service.key": self.serviceKey,
            "payment.gateway": self.paymentGateway,
            "stripe.secret.key": self.stripeSecretKey,
            "stripe.webhook.secret": self.stripeWebhookSecret,
            "stripe.api.base": self.stripeAPIBase,
            "effect.job.timeout": self.effectJobTimeout,
            "credit.packages.file": self.creditPackagesFile,
            "effects.file": self.effectsFile,
            "log.level": self.logLevel,
            "bcrypt.cost": self.bcryptCost,
        ]
    }

    func run() async throws {
        let configuration = try loadConfiguration(configurationReader(flags: self.flags))
        let logger = bootstrapLogging(level: configuration.logLevel)
        let app = try await buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }
}

/// `reelbase migrate`: applies pending migrations and exits.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations and exit (serve also applies them at start-up)."
    )

    @Option(name: .customLong("database-url"), help: ArgumentHelp(AppConfiguration.help("database.url"), valueName: "DATABASE_URL"))
    var databaseURL: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp(AppConfiguration.help("log.level"), valueName: "LOG_LEVEL"))
    var logLevel: String?

    func run() async throws {
        let configuration = try loadConfiguration(configurationReader(flags: ["database.url": self.databaseURL, "log.level": self.logLevel]))
        let logger = bootstrapLogging(level: configuration.logLevel)
        let applied = try await DatabaseConnector.withDatabase(configuration.databaseURL, logger: logger) { database in
            try await Migrator(database: database, logger: logger).migrate()
        }
        logger.info("migrations done", metadata: ["applied": .stringConvertible(applied.count)])
    }
}
