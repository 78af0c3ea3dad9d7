import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Everything the routes need, built once from the configuration.
struct AppDependencies: Sendable {
    let configuration: AppConfiguration
    let database: Database
    let tokens: TokenIssuer
    let passwords: PasswordHasher
    let ledger: CreditLedger
    let users: any UserStore
    let refreshTokens: any RefreshTokenStore
    let catalog: CreditCatalog
    let gateway: any PaymentGateway
    /// Clients the dependencies hold open (the Stripe gateway's HTTP client), shut down after the server drains.
    let services: [any Service]
}

/// Assembles the Reelbase server from its configuration: the database and its pool, the stores, the router.
/// `reelbase serve` runs what it returns; tests drive the same application with HummingbirdTesting.
public func buildApplication(configuration: AppConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let (database, databaseService) = try DatabaseConnector.connect(
        configuration.databaseURL, poolSize: configuration.databasePoolSize, logger: logger)
    let routes = RouteTable()
    let dependencies = try await makeDependencies(configuration: configuration, database: database, logger: logger)
    let router = buildRouter(dependencies, routes: routes)

    var app = Application(
        router: router,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "reelbase"
        ),
        logger: logger
    )
    app.addServices(databaseService)
    app.addServices(dependencies.services)
    app.beforeServerStarts {
        try await Migrator(database: database, logger: logger).migrate()
        logger.info(
            "reelbase ready",
            metadata: [
                "address": "\(configuration.host):\(configuration.port)",
                "database": .string(configuration.databaseURL.redactedDescription),
            ]
        )
    }
    return app
}

func makeDependencies(configuration: AppConfiguration, database: Database, logger: Logger) async throws -> AppDependencies {
    let secret: String
    if let configured = configuration.jwtSecret {
        secret = configured
    } else {
        logger.warning("JWT_SECRET is not set: using a random secret, so tokens stop working when the server restarts")
        secret = TokenIssuer.randomSecret()
    }
    let catalog = try configuration.creditPackagesFile.map(CreditCatalog.init(contentsOf:)) ?? .seed
    // Last: it opens an HTTP client that only the application's services will close.
    let (gateway, gatewayServices) = try makePaymentGateway(configuration, logger: logger)
    return AppDependencies(
        configuration: configuration,
        database: database,
        tokens: await TokenIssuer(secret: secret, accessTokenTTL: configuration.accessTokenTTL),
        passwords: PasswordHasher(cost: UInt8(configuration.bcryptCost)),
        ledger: CreditLedger(dialect: database.dialect),
        users: SQLUserStore(database: database),
        refreshTokens: SQLRefreshTokenStore(database: database, ttl: configuration.refreshTokenTTL),
        catalog: catalog,
        gateway: gateway,
        services: gatewayServices
    )
}

/// The whole HTTP surface. Middleware is added before routes: Hummingbird binds it when a route is added.
func buildRouter(_ dependencies: AppDependencies, routes: RouteTable) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ProblemMiddleware(routes: routes))

    HealthRoutes(database: dependencies.database).addRoutes(to: router)

    let v1 = router.group("v1")
    AuthRoutes(
        database: dependencies.database,
        users: dependencies.users,
        refreshTokens: dependencies.refreshTokens,
        tokens: dependencies.tokens,
        passwords: dependencies.passwords,
        ledger: dependencies.ledger,
        signupBonusCredits: dependencies.configuration.signupBonusCredits
    ).addRoutes(to: v1.group("auth"))
    StripeWebhookRoutes(
        signature: dependencies.configuration.stripeWebhookSecret.map(StripeSignature.init(secret:)),
        store: StripeWebhookStore(database: dependencies.database, ledger: dependencies.ledger, catalog: dependencies.catalog)
    ).addRoutes(to: v1.group("payments"))

    let authenticated = v1.add(middleware: BearerAuthMiddleware(tokens: dependencies.tokens))
    UserRoutes(users: dependencies.users).addRoutes(to: authenticated.group("users"))
    CreditRoutes(
        catalog: dependencies.catalog,
        purchases: CreditPurchases(
            database: dependencies.database,
            ledger: dependencies.ledger,
            catalog: dependencies.catalog,
            gateway: dependencies.gateway,
            idempotency: IdempotencyStore(database: dependencies.database)
        ),
        store: SQLCreditStore(database: dependencies.database)
    ).addRoutes(to: authenticated.group("credits"))
    AdminRoutes(
        database: dependencies.database,
        ledger: dependencies.ledger,
        users: dependencies.users,
        adminEmails: dependencies.configuration.adminEmails
    ).addRoutes(to: authenticated.group("admin"))

    routes.load(from: router)
    return router
}
