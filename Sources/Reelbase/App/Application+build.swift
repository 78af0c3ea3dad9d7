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
    let sessions: any SessionStore
    let roles: any RoleStore
    let reports: any ReportStore
    let moderation: any ModerationStore
    let catalog: CreditCatalog
    let gateway: any PaymentGateway
    let payments: PaymentStore
    let effects: EffectCatalog
    let effectJobs: EffectJobStore
    let credits: any CreditStore
    let promos: any PromoStore
    let plans: SubscriptionPlans
    let subscriptions: SubscriptionBilling
    let idempotency: IdempotencyStore
    let videos: any VideoStore
    let likes: any LikeStore
    let follows: any FollowStore
    let blocks: any BlockStore
    let bookmarks: any BookmarkStore
    let search: any SearchStore
    let cursors: FeedCursor.Codec
    let rateLimits: RateLimiter
    let notifications: any NotificationStore
    let eventStreams: EventStreams
    let eventTickets: EventTicketStore
    /// Clients the dependencies hold open (the Stripe gateway's HTTP client), shut down after the server drains.
    let services: [any Service]
}

/// Assembles the Reelbase server from its configuration: the database and its pool, the stores, the router.
/// `reelbase serve` runs what it returns; tests drive the same application with HummingbirdTesting, and may pass
/// a `statementObserver` to see every SQL statement the application sends.
public func buildApplication(
    configuration: AppConfiguration,
    logger: Logger,
    statementObserver: StatementObserver? = nil
) async throws -> some ApplicationProtocol {
    Observability.bootstrapMetrics()
    let (connected, databaseService) = try DatabaseConnector.connect(
        configuration.databaseURL, poolSize: configuration.databasePoolSize, logger: logger)
    let database = statementObserver.map { connected.observed(by: $0) } ?? connected
    let routes = RouteTable()
    let dependencies = try await makeDependencies(configuration: configuration, database: database, logger: logger)
    let router = buildRouter(dependencies, routes: routes, logger: logger)

    var app = Application(
        router: router,
        server: .http1(timeouts: ConnectionTimeouts(configuration)),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "reelbase"
        ),
        logger: logger
    )
    app.addServices(
        databaseService,
        EffectJobSweeper(jobs: dependencies.effectJobs, timeout: .seconds(configuration.effectJobTimeout), logger: logger),
        CreditExpirySweeper(
            database: database, ledger: dependencies.ledger, interval: .seconds(configuration.expirySweepSeconds),
            notice: .seconds(configuration.creditsExpiringNoticeSeconds), logger: logger),
        PaymentReconciler(
            payments: dependencies.payments, gateway: dependencies.gateway, after: .seconds(configuration.reconcileAfterSeconds), logger: logger),
        Housekeeping(
            idempotency: dependencies.idempotency, refreshTokens: dependencies.refreshTokens,
            rateLimits: dependencies.rateLimits.store, payments: dependencies.payments, events: dependencies.eventStreams, logger: logger)
    )
    if dependencies.subscriptions.chargesRenewals {
        app.addServices(
            SubscriptionRenewer(billing: dependencies.subscriptions, periodSeconds: configuration.subscriptionPeriodSeconds, logger: logger))
    }
    if let listener = try DatabaseConnector.eventListener(for: configuration.databaseURL, database: database, logger: logger) {
        app.addServices(listener)
    }
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
    let effects = try configuration.effectsFile.map(EffectCatalog.init(contentsOf:)) ?? .builtIn
    let plans = try configuration.subscriptionPlansFile.map(SubscriptionPlans.init(contentsOf:)) ?? .builtIn
    if configuration.paymentGateway == .stripe, configuration.subscriptionPlansFile != nil, let plan = plans.plans.first(where: { $0.stripePriceID == nil }) {
        throw ConfigurationError("SUBSCRIPTION_PLANS_FILE: plan '\(plan.id)' needs a stripe_price_id with PAYMENT_GATEWAY=stripe")
    }
    let ledger = CreditLedger(dialect: database.dialect)
    let payments = PaymentStore(
        database: database, ledger: ledger, catalog: catalog,
        referrals: ReferralRewards(
            dialect: database.dialect, ledger: ledger, rewardCredits: configuration.referralRewardCredits,
            welcomeCredits: configuration.referralWelcomeCredits, monthlyLimit: configuration.referralMonthlyLimit,
            bonusTTLDays: configuration.referralBonusTTLDays),
        subscriptions: SubscriptionGrants(
            dialect: database.dialect, ledger: ledger, plans: plans, graceSeconds: configuration.subscriptionGraceSeconds))
    // Last: it opens an HTTP client that only the application's services will close.
    let (gateway, gatewayServices) = try makePaymentGateway(configuration, logger: logger)
    return AppDependencies(
        configuration: configuration,
        database: database,
        tokens: await TokenIssuer(secret: secret, accessTokenTTL: configuration.accessTokenTTL),
        passwords: PasswordHasher(cost: UInt8(configuration.bcryptCost)),
        ledger: ledger,
        users: SQLUserStore(database: database),
        refreshTokens: SQLRefreshTokenStore(database: database, ttl: configuration.refreshTokenTTL),
        sessions: SQLSessionStore(database: database),
        roles: SQLRoleStore(database: database),
        reports: SQLReportStore(database: database),
        moderation: SQLModerationStore(database: database),
        catalog: catalog,
        gateway: gateway,
        payments: payments,
        effects: effects,
        effectJobs: EffectJobStore(database: database, ledger: ledger),
        credits: SQLCreditStore(database: database, ledger: ledger, sweepInterval: .seconds(configuration.expirySweepSeconds)),
        promos: SQLPromoStore(database: database, ledger: ledger),
        plans: plans,
        subscriptions: SubscriptionBilling(
            store: SubscriptionStore(database: database, periods: SubscriptionPeriods(fixedLength: configuration.subscriptionPeriodSeconds)),
            payments: payments, gateway: gateway, plans: plans),
        idempotency: IdempotencyStore(database: database),
        videos: SQLVideoStore(database: database),
        likes: SQLLikeStore(database: database),
        follows: SQLFollowStore(database: database),
        blocks: SQLBlockStore(database: database),
        bookmarks: SQLBookmarkStore(database: database),
        search: SQLSearchStore(database: database),
        cursors: FeedCursor.Codec(secret: secret),
        rateLimits: RateLimiter(
            store: RateLimitStore(database: database), limits: configuration.rateLimits, proxies: configuration.trustedProxies),
        notifications: SQLNotificationStore(database: database),
        eventStreams: EventStreams(
            database: database, replayWindow: TimeInterval(configuration.eventReplaySeconds),
            heartbeat: .seconds(configuration.eventHeartbeatSeconds), logger: logger),
        eventTickets: EventTicketStore(database: database),
        services: gatewayServices
    )
}

/// The whole HTTP surface. Middleware is added before routes: Hummingbird binds it when a route is added.
func buildRouter(_ dependencies: AppDependencies, routes: RouteTable, logger: Logger) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    // Outermost, so it counts the status actually sent, after errors became problem responses.
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ProblemMiddleware(routes: routes))
    router.add(middleware: WebAppMiddleware(configuration: dependencies.configuration, logger: logger))

    HealthRoutes(database: dependencies.database).addRoutes(to: router)
    MetricsRoutes(jobs: dependencies.effectJobs).addRoutes(to: router)
    APIDocument.addRoutes(to: router)

    // Separate groups under /v1, because a group's middleware applies to every route added to it later: auth (no
    // token needed, a stale one must not block a refresh), webhooks (Stripe's signature), the API (bearer tokens),
    // workers (service key).
    AuthRoutes(
        database: dependencies.database,
        users: dependencies.users,
        refreshTokens: dependencies.refreshTokens,
        tokens: dependencies.tokens,
        passwords: dependencies.passwords,
        ledger: dependencies.ledger,
        signupBonusCredits: dependencies.configuration.signupBonusCredits,
        signupBonusTTLDays: dependencies.configuration.signupBonusTTLDays,
        limits: dependencies.rateLimits
    ).addRoutes(to: router.group("v1/auth"))
    StripeWebhookRoutes(
        signature: dependencies.configuration.stripeWebhookSecret.map(StripeSignature.init(secret:)),
        store: StripeWebhookStore(
            database: dependencies.database, payments: dependencies.payments,
            subscriptions: StripeSubscriptionEvents(billing: dependencies.subscriptions))
    ).addRoutes(to: router.group("v1/payments"))
    PaymentConfigRoutes(
        gateway: dependencies.configuration.paymentGateway, publishableKey: dependencies.configuration.stripePublishableKey
    ).addRoutes(to: router.group("v1/payments"))

    let authenticated = router.group("v1").add(middleware: BearerAuthMiddleware(tokens: dependencies.tokens, sessions: dependencies.sessions))
    let urls = URLRule(environment: dependencies.configuration.environment)
    UserRoutes(users: dependencies.users, urls: urls).addRoutes(to: authenticated.group("users"))
    VideoRoutes(videos: dependencies.videos, users: dependencies.users, cursors: dependencies.cursors, urls: urls)
        .addRoutes(videos: authenticated.group("videos"), users: authenticated.group("users"))
    LikeRoutes(likes: dependencies.likes).addRoutes(to: authenticated.group("likes"))
    FollowRoutes(follows: dependencies.follows, users: dependencies.users, cursors: dependencies.cursors)
        .addRoutes(follows: authenticated.group("follows"), users: authenticated.group("users"))
    BlockRoutes(blocks: dependencies.blocks, cursors: dependencies.cursors).addRoutes(to: authenticated.group("blocks"))
    BookmarkRoutes(bookmarks: dependencies.bookmarks, cursors: dependencies.cursors).addRoutes(to: authenticated.group("bookmarks"))
    SearchRoutes(search: dependencies.search, cursors: dependencies.cursors).addRoutes(to: authenticated.group("search"))
    CreditRoutes(
        catalog: dependencies.catalog,
        purchases: CreditPurchases(payments: dependencies.payments, gateway: dependencies.gateway),
        store: dependencies.credits,
        idempotency: dependencies.idempotency
    ).addRoutes(to: authenticated.group("credits"))
    SubscriptionRoutes(plans: dependencies.plans, billing: dependencies.subscriptions, idempotency: dependencies.idempotency)
        .addRoutes(to: authenticated.group("subscriptions"))
    ReportRoutes(reports: dependencies.reports, limits: dependencies.rateLimits, cursors: dependencies.cursors)
        .addRoutes(to: authenticated.group("reports"))
    NotificationRoutes(notifications: dependencies.notifications, cursors: dependencies.cursors)
        .addRoutes(to: authenticated.group("notifications"))
    EventRoutes(streams: dependencies.eventStreams, tickets: dependencies.eventTickets, sessions: dependencies.sessions)
        .addRoutes(to: authenticated.group("events"))
    let admin = authenticated.group("admin")
    AdminRoutes(credits: dependencies.credits, roles: dependencies.roles, idempotency: dependencies.idempotency).addRoutes(to: admin)
    PromoRoutes(promos: dependencies.promos, idempotency: dependencies.idempotency, limits: dependencies.rateLimits, cursors: dependencies.cursors)
        .addRoutes(credits: authenticated.group("credits"), admin: admin)
    ModerationRoutes(
        reports: dependencies.reports, moderation: dependencies.moderation, videos: dependencies.videos,
        jobs: dependencies.effectJobs, cursors: dependencies.cursors
    ).addRoutes(to: admin)
    EffectRoutes(
        catalog: dependencies.effects,
        jobs: dependencies.effectJobs,
        idempotency: dependencies.idempotency,
        cursors: dependencies.cursors
    ).addRoutes(to: authenticated.group("effects"))
    WorkerRoutes(jobs: dependencies.effectJobs).addRoutes(
        to: router.group("v1/internal/effect-jobs").add(middleware: ServiceKeyMiddleware(serviceKey: dependencies.configuration.serviceKey)))

    routes.load(from: router)
    return router
}
