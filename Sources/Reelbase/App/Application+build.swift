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
    let videos: any VideoStore
    let likes: any LikeStore
    let follows: any FollowStore
    let cursors: FeedCursor.Codec
}

/// Assembles the Reelbase server from its configuration: the database and its pool, the stores, the router.
/// `reelbase serve` runs what it returns; tests drive the same application with HummingbirdTesting, and may pass
/// a `statementObserver` to see every SQL statement the application sends.
public func buildApplication(
    configuration: AppConfiguration,
    logger: Logger,
    statementObserver: StatementObserver? = nil
) async throws -> some ApplicationProtocol {
    let (connected, databaseService) = try DatabaseConnector.connect(
        configuration.databaseURL, poolSize: configuration.databasePoolSize, logger: logger)
    let database = statementObserver.map { connected.observed(by: $0) } ?? connected
    let routes = RouteTable()
    let dependencies = await makeDependencies(configuration: configuration, database: database, logger: logger)
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

func makeDependencies(configuration: AppConfiguration, database: Database, logger: Logger) async -> AppDependencies {
    let secret: String
    if let configured = configuration.jwtSecret {
        secret = configured
    } else {
        logger.warning("JWT_SECRET is not set: using a random secret, so tokens stop working when the server restarts")
        secret = TokenIssuer.randomSecret()
    }
    return AppDependencies(
        configuration: configuration,
        database: database,
        tokens: await TokenIssuer(secret: secret, accessTokenTTL: configuration.accessTokenTTL),
        passwords: PasswordHasher(cost: UInt8(configuration.bcryptCost)),
        ledger: CreditLedger(dialect: database.dialect),
        users: SQLUserStore(database: database),
        refreshTokens: SQLRefreshTokenStore(database: database, ttl: configuration.refreshTokenTTL),
        videos: SQLVideoStore(database: database),
        likes: SQLLikeStore(database: database),
        follows: SQLFollowStore(database: database),
        cursors: FeedCursor.Codec(secret: secret)
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

    let authenticated = v1.add(middleware: BearerAuthMiddleware(tokens: dependencies.tokens))
    UserRoutes(users: dependencies.users).addRoutes(to: authenticated.group("users"))
    VideoRoutes(videos: dependencies.videos, users: dependencies.users, cursors: dependencies.cursors)
        .addRoutes(videos: authenticated.group("videos"), users: authenticated.group("users"))
    LikeRoutes(likes: dependencies.likes).addRoutes(to: authenticated.group("likes"))
    FollowRoutes(follows: dependencies.follows, users: dependencies.users, cursors: dependencies.cursors)
        .addRoutes(follows: authenticated.group("follows"), users: authenticated.group("users"))

    routes.load(from: router)
    return router
}
