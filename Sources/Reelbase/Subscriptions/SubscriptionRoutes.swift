import Foundation
import Hummingbird

/// `/v1/subscriptions`: plans, the caller's subscription, and changes to it.
struct SubscriptionRoutes {
    let plans: SubscriptionPlans
    let billing: SubscriptionBilling
    let idempotency: IdempotencyStore

    var store: SubscriptionStore { self.billing.store }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("plans", use: self.listPlans)
        group.post("", use: self.subscribe)
        group.get("current", use: self.current)
        group.patch("current", use: self.change)
        group.post("current/cancel", use: self.cancel)
        group.post("current/resume", use: self.resume)
    }

    @Sendable func listPlans(_ request: Request, context: AppRequestContext) async throws -> PlanList {
        PlanList(self.plans)
    }

    /// Claims the live slot and charges the first period outside the request's transaction, then settles it (with the
    /// answer kept for its `Idempotency-Key`) in one; a declined answer is kept too.
    @Sendable func subscribe(_ request: Request, context: AppRequestContext) async throws -> Response {
        let userID = try context.requireUser()
        let key = try request.idempotencyKey()
        let body = try await request.decodeJSON(as: SubscribeRequest.self, context: context)
        guard let plan = self.plans.plan(id: body.planID) else { throw Problem.notFound("Subscription plan") }
        try self.validatePayment(method: body.paymentMethod, token: body.paymentToken)

        let creationKey = key.map {
            RequestFingerprint(IdempotencyScope.subscription.rawValue, userID.lowercased, $0, body.planID, body.paymentMethod, body.paymentToken).hex
        } ?? UUID().lowercased
        let new = SubscriptionStore.NewSubscription(
            userID: userID, plan: plan, paymentMethod: body.paymentMethod, paymentToken: body.paymentToken,
            gateway: self.billing.gateway.name, creationKey: creationKey)
        let logger = context.logger
        let answer = try await self.idempotency.perform(
            key.map { IdempotentRequest(userID: userID, scope: .subscription, key: $0, fingerprint: body.fingerprint) },
            prepare: { try await self.billing.start(new) },
            commit: { start, connection in try await self.billing.record(start, on: connection, logger: logger).storedResponse() }
        )
        return answer.response
    }

    @Sendable func current(_ request: Request, context: AppRequestContext) async throws -> SubscriptionView {
        let userID = try context.requireUser()
        guard let subscription = try await self.store.latest(of: userID) else { throw SubscriptionError.notFound }
        return SubscriptionView(subscription)
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> SubscriptionView {
        SubscriptionView(try await self.billing.cancel(of: try context.requireUser()))
    }

    @Sendable func resume(_ request: Request, context: AppRequestContext) async throws -> SubscriptionView {
        SubscriptionView(try await self.billing.resume(of: try context.requireUser()))
    }

    /// A plan change applies at the next renewal; a new payment method is used from now on, and charged at once
    /// when the subscription is past due.
    @Sendable func change(_ request: Request, context: AppRequestContext) async throws -> SubscriptionView {
        let userID = try context.requireUser()
        let body = try await request.decodeJSON(as: SubscriptionChangeRequest.self, context: context)
        var plan: SubscriptionPlan?
        if let planID = body.planID {
            guard let found = self.plans.plan(id: planID) else { throw Problem.notFound("Subscription plan") }
            plan = found
        }
        if body.paymentMethod != nil || body.paymentToken != nil {
            var validator = Validator()
            validator.check(body.paymentToken != nil, "payment_token", "Required with payment_method.")
            try validator.validate()
            try self.validatePayment(method: body.paymentMethod ?? "card", token: body.paymentToken ?? "")
        }
        return SubscriptionView(
            try await self.billing.change(
                of: userID, plan: plan, paymentMethod: body.paymentMethod, paymentToken: body.paymentToken, logger: context.logger))
    }

    /// The same checks as a purchase's payment fields.
    private func validatePayment(method: String, token: String) throws {
        var validator = Validator()
        validator.checkLength(method, 1...50, "payment_method", "Must be 1 to 50 characters.")
        validator.checkLength(token, 1...255, "payment_token", "Must be 1 to 255 characters.")
        if let problem = self.billing.gateway.validate(paymentToken: token) {
            validator.check(false, problem.field, problem.message)
        }
        try validator.validate()
    }
}

extension SubscriptionBilling.Started {
    /// The answer of `POST /v1/subscriptions`, as kept for its idempotency key.
    func storedResponse() throws -> StoredResponse {
        switch self {
        case .active(let subscription, let entry):
            try StoredResponse(
                status: .created,
                encoding: SubscribedResponse(
                    subscription: SubscriptionView(subscription), transactionID: entry.id.lowercased, creditsAdded: entry.credits,
                    newBalance: entry.balanceAfter))
        case .pending(let subscription, let paymentID, let clientSecret):
            try StoredResponse(
                status: .accepted,
                encoding: PendingSubscriptionResponse(subscription: SubscriptionView(subscription), paymentIntentID: paymentID, clientSecret: clientSecret))
        case .declined(let message):
            StoredResponse(Problem(.paymentRequired, code: "payment_failed", detail: message))
        }
    }
}
