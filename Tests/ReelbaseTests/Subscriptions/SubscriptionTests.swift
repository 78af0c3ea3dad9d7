import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

/// `/v1/subscriptions` with the mock gateway: the first grant, renewals by the renewal service, cancel, resume,
/// plan and payment-method changes, failed renewals (API.md, "Subscriptions, credit lots and bonuses").
@Suite("Subscriptions")
struct SubscriptionTests {
    /// The shortest period API.md allows, and a grace period whose retries (at 3, 6 and 9 s) fit inside it. The app's
    /// own renewal service runs beside the tests (every second with these periods), so each step is awaited with the
    /// bound it must meet: ``settled``, after the moment it is due.
    static let fast = ["subscription.period.seconds": "10", "subscription.grace.seconds": "9"]
    /// How soon after it is due a renewal, retry or end has happened: the service's one-second interval, with room
    /// for a loaded machine.
    static let settled: TimeInterval = 3

    struct Current: Decodable, Equatable {
        var id: String
        var planId: String
        var status: String
        var currentPeriodStart: Date
        var currentPeriodEnd: Date
        var cancelAtPeriodEnd: Bool
        var pendingPlanId: String?
        var createdAt: Date
    }

    struct Subscribed: Decodable {
        var subscription: Current
        var transactionId: String
        var creditsAdded: Int
        var newBalance: Int
    }

    @Test(arguments: TestDatabase.allCases)
    func subscribingChargesAndGrantsTheFirstPeriodOnce(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let plans = try await client.get("/v1/subscriptions/plans")
            #expect(plans.status == .ok)
            #expect(
                plans.text
                    == #"{"plans":[{"credits_per_period":600,"currency":"USD","id":"plus_monthly","interval":"month","name":"Plus","price":9.99},{"credits_per_period":2500,"currency":"USD","id":"pro_monthly","interval":"month","name":"Pro","price":29.99}]}"#)

            let ann = try await client.register()
            _ = try await client.get("/v1/subscriptions/current", token: ann.accessToken).expectProblem(404, code: "subscription_not_found")
            _ = try await client.subscribe(ann, plan: "gold_monthly").expectProblem(404, code: "not_found")
            let declined = try await client.subscribe(ann, token: "tok_fail_card")
            _ = try declined.expectProblem(402, code: "payment_failed")
            // Nothing kept of a declined subscription.
            #expect(try await db.count("subscriptions") == 0)
            _ = try await client.get("/v1/subscriptions/current", token: ann.accessToken).expectProblem(404, code: "subscription_not_found")

            let before = Date()
            let response = try await client.subscribe(ann, key: "sub-1")
            #expect(response.status == .created, "\(response.text)")
            let body = try response.decode(Subscribed.self)
            #expect(body.creditsAdded == 600 && body.newBalance == 600)
            #expect(body.subscription.status == "active" && body.subscription.planId == "plus_monthly")
            #expect(!body.subscription.cancelAtPeriodEnd && body.subscription.pendingPlanId == nil)
            #expect(response.text.contains(#""pending_plan_id":null"#))
            let start = body.subscription.currentPeriodStart
            #expect(start > before.addingTimeInterval(-1) && start <= Date())
            #expect(body.subscription.currentPeriodEnd == SubscriptionPeriods(fixedLength: nil).start(of: 1, anchor: start))

            // The same request under the same key is the same answer; it charges and grants nothing more.
            let replay = try await client.subscribe(ann, key: "sub-1")
            #expect(replay.status == .created && replay.headers[.idempotentReplayed] == "true")
            #expect(try replay.decode(Subscribed.self).transactionId == body.transactionId)
            _ = try await client.subscribe(ann, key: "sub-2").expectProblem(409, code: "subscription_exists")
            _ = try await client.subscribe(ann).expectProblem(409, code: "subscription_exists")

            #expect(try await client.get("/v1/subscriptions/current", token: ann.accessToken).decode(Current.self) == body.subscription)
            let history = try await client.history(ann).transactions
            #expect(history.map(\.transactionType) == ["subscription"])
            let days = SubscriptionPeriods.describe(start, body.subscription.currentPeriodEnd)
            #expect(history.first?.description == "Plus: 600 credits for \(days)")
            let balance = try await client.balance(ann)
            #expect(balance.balance == 600 && balance.totalEarned == 600)
            #expect(try await db.count("payments", where: "status = 'succeeded' AND subscription_id IS NOT NULL") == 1)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func concurrentSubscriptionsChargeOnce(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let ann = try await client.register()
            let statuses = LockedStatuses()
            try await concurrently(Array(0..<6), width: 6) { _ in
                statuses.append(try await client.subscribe(ann).status.code)
            }
            #expect(statuses.sorted == [201, 409, 409, 409, 409, 409])
            #expect(try await db.count("payments") == 1)
            #expect(try await client.balance(ann).balance == 600)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func twoInstancesRenewEachPeriodOnceAndExpireTheUnusedAllowance(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: Self.fast) { client, db in
            let ann = try await client.register()
            let first = try await client.subscribe(ann).decode(Subscribed.self).subscription
            // Two instances of the renewal service, each with its own pool, racing every pass.
            // Two more instances of the renewal service, each with its own pool, racing the app's on every look.
            try await withRenewers(client, count: 2) { renewers in
                for period in 1...2 {
                    let due = first.currentPeriodStart.addingTimeInterval(Double(10 * period))
                    let renewed = try await waitFor(by: due.addingTimeInterval(Self.settled), racing: renewers) {
                        try await client.current(ann).currentPeriodStart == due
                    }
                    #expect(renewed, "period \(period) not renewed within \(Self.settled) s")
                    let current = try await client.current(ann)
                    #expect(current.status == "active" && current.currentPeriodEnd == due.addingTimeInterval(10))
                }
            }
            let history = try await client.history(ann).transactions.reversed().map { ($0.transactionType, $0.credits) }
            // N = 2 renewals: N + 1 grants, N expiries of the unused allowance, each expiry before the grant it precedes.
            #expect(history.map(\.0) == ["subscription", "expiry", "subscription", "expiry", "subscription"])
            #expect(history.map(\.1) == [600, -600, 600, -600, 600])
            let expiry = try await client.history(ann).transactions.first { $0.transactionType == "expiry" }
            #expect(expiry?.description.hasPrefix("Expired: Plus: 600 credits for ") == true)
            #expect(expiry?.description.hasSuffix(" (600 credits)") == true)
            #expect(try await client.balance(ann).balance == 600)
            #expect(try await db.count("payments", where: "subscription_id IS NOT NULL") == 3)
            #expect(try await db.count("subscription_grants") == 3)
            #expect(try await db.count("notifications", where: "type = 'subscription_renewed'") == 2)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func cancelStopsChargingAtThePeriodEndAndResumeUndoesIt(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: Self.fast) { client, db in
            let ann = try await client.register()
            let first = try await client.subscribe(ann).decode(Subscribed.self).subscription
            let canceled = try await client.post("/v1/subscriptions/current/cancel", token: ann.accessToken).decode(Current.self)
            #expect(canceled.status == "active" && canceled.cancelAtPeriodEnd)
            #expect(try await client.post("/v1/subscriptions/current/cancel", token: ann.accessToken).decode(Current.self) == canceled)
            let resumed = try await client.post("/v1/subscriptions/current/resume", token: ann.accessToken).decode(Current.self)
            #expect(resumed.status == "active" && !resumed.cancelAtPeriodEnd)
            #expect(try await client.post("/v1/subscriptions/current/resume", token: ann.accessToken).status == .ok)
            _ = try await client.post("/v1/subscriptions/current/cancel", token: ann.accessToken)
            // The credits stay until the period ends.
            #expect(try await client.balance(ann).balance == 600)

            #expect(try await waitFor(by: first.currentPeriodEnd.addingTimeInterval(Self.settled)) { try await client.current(ann).status == "canceled" })
            let ended = try await client.current(ann)
            #expect(ended.status == "canceled" && ended.currentPeriodEnd == first.currentPeriodEnd)
            #expect(try await db.count("payments") == 1)
            for path in ["/v1/subscriptions/current/cancel", "/v1/subscriptions/current/resume"] {
                _ = try await client.post(path, token: ann.accessToken).expectProblem(409, code: "subscription_ended")
            }
            _ = try await client.request(.patch, "/v1/subscriptions/current", token: ann.accessToken, json: ["plan_id": "pro_monthly"])
                .expectProblem(409, code: "subscription_ended")
            // An ended subscription leaves room for a new one.
            #expect(try await client.subscribe(ann).status == .created)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aPlanChangeAppliesAtTheNextRenewalOnly(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: Self.fast) { client, db in
            let ann = try await client.register()
            let first = try await client.subscribe(ann).decode(Subscribed.self).subscription
            _ = try await client.request(.patch, "/v1/subscriptions/current", token: ann.accessToken, json: ["plan_id": "gold"])
                .expectProblem(404, code: "not_found")
            let changed = try await client.request(.patch, "/v1/subscriptions/current", token: ann.accessToken, json: ["plan_id": "pro_monthly"])
                .decode(Current.self)
            #expect(changed.planId == "plus_monthly" && changed.pendingPlanId == "pro_monthly")
            #expect(try await client.balance(ann).balance == 600)
            #expect(try await db.count("payments") == 1)

            #expect(try await waitFor(by: first.currentPeriodEnd.addingTimeInterval(Self.settled)) { try await client.current(ann).planId == "pro_monthly" })
            let renewed = try await client.current(ann)
            #expect(renewed.planId == "pro_monthly" && renewed.pendingPlanId == nil && renewed.status == "active")
            let newest = try await client.history(ann).transactions.first
            #expect(newest?.credits == 2500)
            #expect(newest?.description.hasPrefix("Pro: 2500 credits for ") == true)
            #expect(try await client.balance(ann).balance == 2500)
            #expect(try await db.count("payments", where: "amount_cents = 2999") == 1)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aFailingRenewalGoesPastDueIsRetriedThenCanceled(_ database: TestDatabase) async throws {
        // Retries at 4, 8 and 12 s: room for each to be awaited before the next is due.
        try await TestApp.runWithDatabase(database, settings: Self.fast.merging(["subscription.grace.seconds": "12"]) { $1 }) { client, db in
            let ann = try await client.register()
            let first = try await client.subscribe(ann, token: "tok_fail_renewal").decode(Subscribed.self).subscription
            let end = first.currentPeriodEnd
            @Sendable func failed() async throws -> Int { try await db.count("payments", where: "status = 'failed'") }
            try await withRenewers(client, count: 1) { renewers in
                #expect(try await waitFor(by: end.addingTimeInterval(Self.settled), racing: renewers) { try await failed() == 1 })
                let pastDue = try await client.current(ann)
                #expect(pastDue.status == "past_due" && pastDue.currentPeriodEnd == end)
                // Retries at ⅓, ⅔ and the end of the grace period; not one before it is due.
                for (retry, at) in [(1, 4.0), (2, 8.0)] {
                    try await sleep(until: end.addingTimeInterval(at - 0.5))
                    try await race(renewers)
                    #expect(try await failed() == retry, "retry \(retry) came early")
                    #expect(try await waitFor(by: end.addingTimeInterval(at + Self.settled), racing: renewers) { try await failed() == retry + 1 })
                    #expect(try await client.current(ann).status == "past_due")
                }
                try await sleep(until: end.addingTimeInterval(11.5))
                #expect(try await client.current(ann).status == "past_due")
                #expect(try await waitFor(by: end.addingTimeInterval(12 + Self.settled), racing: renewers) { try await client.current(ann).status == "canceled" })
            }
            #expect(try await failed() == 4)
            #expect(try await db.count("payments", where: "status = 'succeeded'") == 1)
            // One notice for the period, at its first failure.
            #expect(try await db.count("notifications", where: "type = 'subscription_payment_failed'") == 1)
            #expect(try await client.history(ann).transactions.map(\.transactionType) == ["subscription"])
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aRetryThatSucceedsGrantsThePeriodFromTheOldEnd(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: Self.fast) { client, db in
            let ann = try await client.register()
            let first = try await client.subscribe(ann, token: "tok_fail_renewal_once").decode(Subscribed.self).subscription
            let end = first.currentPeriodEnd
            #expect(try await waitFor(by: end.addingTimeInterval(Self.settled)) { try await client.current(ann).status == "past_due" })
            // The first retry, at ⅓ of the 9 s grace period.
            #expect(try await waitFor(by: end.addingTimeInterval(3 + Self.settled)) { try await client.current(ann).status == "active" })
            let renewed = try await client.current(ann)
            #expect(renewed.status == "active")
            // The anchor never moves: the period granted began at the old period's end.
            #expect(abs(renewed.currentPeriodStart.timeIntervalSince(first.currentPeriodEnd)) < 0.01)
            #expect(try await client.history(ann).transactions.map(\.transactionType) == ["subscription", "expiry", "subscription"])
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aNewPaymentMethodOnAPastDueSubscriptionIsChargedAtOnce(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: Self.fast) { client, db in
            let ann = try await client.register()
            let first = try await client.subscribe(ann, token: "tok_fail_renewal").decode(Subscribed.self).subscription
            #expect(try await waitFor(by: first.currentPeriodEnd.addingTimeInterval(Self.settled)) { try await client.current(ann).status == "past_due" })
            let declined = try await client.request(
                .patch, "/v1/subscriptions/current", token: ann.accessToken, json: ["payment_method": "card", "payment_token": "tok_fail_other"])
            _ = try declined.expectProblem(402, code: "payment_failed")
            #expect(try await client.get("/v1/subscriptions/current", token: ann.accessToken).decode(Current.self).status == "past_due")
            _ = try await client.request(.patch, "/v1/subscriptions/current", token: ann.accessToken, json: ["payment_method": "card"])
                .expectProblem(422, code: "validation_failed")

            let paid = try await client.request(
                .patch, "/v1/subscriptions/current", token: ann.accessToken, json: ["payment_method": "card", "payment_token": "tok_visa"])
            #expect(paid.status == .ok, "\(paid.text)")
            let active = try paid.decode(Current.self)
            #expect(active.status == "active" && abs(active.currentPeriodStart.timeIntervalSince(first.currentPeriodEnd)) < 0.01)
            #expect(try await client.balance(ann).balance == 600)
            #expect(try await client.history(ann).transactions.map(\.transactionType) == ["subscription", "expiry", "subscription"])
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aSuspendedUsersSubscriptionEndsUnchargedAndStaysEnded(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: Self.fast) { client, db in
            let ann = try await client.register()
            let first = try await client.subscribe(ann).decode(Subscribed.self).subscription
            try await db.setSuspended(ann.id, true)
            #expect(
                try await waitFor(by: first.currentPeriodEnd.addingTimeInterval(Self.settled)) {
                    try await db.count("subscriptions", where: "status = 'canceled'") == 1
                })
            try await db.setSuspended(ann.id, false)
            try await Task.sleep(for: .seconds(1.5))
            #expect(try await db.count("subscriptions", where: "status = 'canceled'") == 1)
            #expect(try await db.count("payments") == 1)
            try await client.expectCleanAudit()
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aReferredUsersFirstPeriodPaysTheReferralBonuses(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, _ in
            let bob = try await client.register()
            struct Me: Decodable { var referralCode: String }
            let code = try await client.get("/v1/users/me", token: bob.accessToken).decode(Me.self).referralCode
            let ann = try await client.register(referralCode: code)
            #expect(try await client.subscribe(ann).status == .created)
            #expect(try await client.balance(ann).balance == 650)
            #expect(try await client.balance(bob).balance == 100)
            try await client.expectCleanAudit()
        }
    }

    @Test func periodSettingsAreChecked() {
        #expect(throws: ConfigurationError.self) {
            try TestApp.configuration(databaseURL: "sqlite://x.sqlite", settings: ["subscription.period.seconds": "9"])
        }
        #expect(throws: ConfigurationError.self) {
            try TestApp.configuration(
                databaseURL: "sqlite://x.sqlite",
                settings: [
                    "subscription.period.seconds": "10", "payment.gateway": "stripe", "stripe.secret.key": "sk_test_x",
                    "stripe.webhook.secret": "whsec_x",
                ])
        }
    }

    @Test func calendarPeriodsClampToTheMonthsLastDayFromTheAnchor() throws {
        let periods = SubscriptionPeriods(fixedLength: nil)
        let anchor = try Date("2026-01-31T10:00:00Z", strategy: .iso8601)
        let starts = (0...3).map { periods.start(of: $0, anchor: anchor).formatted(.iso8601) }
        #expect(starts == ["2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z", "2026-04-30T10:00:00Z"])
        #expect(periods.index(containing: try Date("2026-03-31T09:59:59Z", strategy: .iso8601), anchor: anchor) == 1)
        #expect(periods.index(containing: try Date("2026-03-31T10:00:00Z", strategy: .iso8601), anchor: anchor) == 2)
        #expect(SubscriptionPeriods.describe(anchor, periods.start(of: 1, anchor: anchor)) == "2026-01-31 – 2026-02-28")
    }
}

/// Statuses collected from concurrent requests.
private final class LockedStatuses: @unchecked Sendable {
    private let lock = NSLock()
    private var statuses: [Int] = []
    func append(_ status: Int) { self.lock.withLock { self.statuses.append(status) } }
    var sorted: [Int] { self.lock.withLock { self.statuses.sorted() } }
}

/// Looks every 100 ms (first letting `renewers` race a pass) until `condition` holds, or `deadline` passes: `false`.
private func waitFor(
    by deadline: Date, racing renewers: [SubscriptionRenewer] = [], _ condition: @Sendable () async throws -> Bool
) async throws -> Bool {
    while true {
        try await race(renewers)
        if try await condition() { return true }
        if Date() > deadline { return false }
        try await Task.sleep(for: .milliseconds(100))
    }
}

extension TestClient {
    func current(_ user: User) async throws -> SubscriptionTests.Current {
        try await self.get("/v1/subscriptions/current", token: user.accessToken).decode(SubscriptionTests.Current.self)
    }
}

private func sleep(until date: Date) async throws {
    let wait = date.timeIntervalSinceNow
    if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
}

/// `count` more renewal services as separate instances would run them: each with its own pool on the app's database,
/// with the periods of ``SubscriptionTests/fast``.
private func withRenewers(
    _ client: TestClient, count: Int, _ body: @escaping @Sendable ([SubscriptionRenewer]) async throws -> Void
) async throws {
    guard let url = client.databaseURL else { throw TestSetupError("this TestClient was made without its app's databaseURL") }
    try await openRenewers(url: url, count: count, [], body)
}

private func openRenewers(
    url: String, count: Int, _ opened: [SubscriptionRenewer], _ body: @escaping @Sendable ([SubscriptionRenewer]) async throws -> Void
) async throws {
    guard opened.count < count else { return try await body(opened) }
    try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
        try await openRenewers(url: url, count: count, opened + [db.subscriptionRenewer(periodSeconds: 10, graceSeconds: 12)], body)
    }
}

extension Reelbase.Database {
    /// The renewal service `serve` runs, over this handle, with the mock gateway and the built-in plans.
    func subscriptionRenewer(periodSeconds: Int, graceSeconds: Int) -> SubscriptionRenewer {
        let ledger = CreditLedger(dialect: self.dialect)
        let payments = PaymentStore(
            database: self, ledger: ledger, catalog: .seed,
            subscriptions: SubscriptionGrants(dialect: self.dialect, ledger: ledger, plans: .builtIn, graceSeconds: graceSeconds))
        let billing = SubscriptionBilling(
            store: SubscriptionStore(database: self, periods: SubscriptionPeriods(fixedLength: periodSeconds)), payments: payments,
            gateway: MockPaymentGateway(), plans: .builtIn)
        return SubscriptionRenewer(billing: billing, periodSeconds: periodSeconds, logger: TestApp.logger)
    }
}

/// Runs one pass of every renewer at once.
private func race(_ renewers: [SubscriptionRenewer]) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for renewer in renewers { group.addTask { try await renewer.pass() } }
        try await group.waitForAll()
    }
}
