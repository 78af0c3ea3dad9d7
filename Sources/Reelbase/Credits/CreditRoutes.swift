import Foundation
import Hummingbird

/// `/v1/credits`: the seed's wallet endpoints.
struct CreditRoutes {
    let catalog: CreditCatalog
    let purchases: CreditPurchases
    let store: any CreditStore
    let idempotency: IdempotencyStore

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("packages", use: self.packages)
        group.post("purchase", use: self.purchase)
        group.get("balance", use: self.balance)
        group.get("history", use: self.history)
    }

    @Sendable func packages(_ request: Request, context: AppRequestContext) async throws -> PackageList {
        PackageList(self.catalog)
    }

    /// Checks the request, records the payment and charges outside the request's transaction, then settles the
    /// payment (with the answer kept for its `Idempotency-Key`) in one. A declined payment's answer is kept too: retrying the key does not try the
    /// card again.
    @Sendable func purchase(_ request: Request, context: AppRequestContext) async throws -> Response {
        let userID = try context.requireUser()
        let key = try request.idempotencyKey()
        let body = try await request.decodeJSON(as: PurchaseRequest.self, context: context)
        guard let package = self.catalog.package(id: body.packageID) else { throw Problem.notFound("Credit package") }
        var validator = Validator()
        validator.checkLength(body.paymentMethod, 1...50, "payment_method", "Must be 1 to 50 characters.")
        validator.checkLength(body.paymentToken, 1...255, "payment_token", "Must be 1 to 255 characters.")
        if let problem = self.purchases.gateway.validate(paymentToken: body.paymentToken) {
            validator.check(false, problem.field, problem.message)
        }
        try validator.validate()

        let purchase = Purchase(userID: userID, package: package, paymentMethod: body.paymentMethod, paymentToken: body.paymentToken)
        let logger = context.logger
        let answer = try await self.idempotency.perform(
            key.map { IdempotentRequest(userID: userID, scope: .purchase, key: $0, fingerprint: body.fingerprint) },
            prepare: { try await self.purchases.charge(purchase, idempotencyKey: key) },
            commit: { charge, connection in try await self.purchases.record(charge, on: connection, logger: logger).storedResponse() }
        )
        return answer.response
    }

    @Sendable func balance(_ request: Request, context: AppRequestContext) async throws -> BalanceResponse {
        let userID = try context.requireUser()
        guard let wallet = try await self.store.wallet(userID: userID) else {
            throw Problem.unauthorized("The account no longer exists.")
        }
        return BalanceResponse(wallet)
    }

    @Sendable func history(_ request: Request, context: AppRequestContext) async throws -> HistoryResponse {
        let userID = try context.requireUser()
        let query = try HistoryQuery(Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { $1 }))
        let page = try await self.store.history(userID: userID, type: query.type, page: query.page, pageSize: query.pageSize)
        return HistoryResponse(page, query: query)
    }
}

extension PurchaseOutcome {
    /// The answer of `POST /v1/credits/purchase`, as kept for its idempotency key.
    func storedResponse() throws -> StoredResponse {
        switch self {
        case .credited(let package, let entry):
            try StoredResponse(
                status: .ok,
                encoding: PurchaseResponse(
                    transactionID: entry.id.lowercased,
                    creditsAdded: entry.credits,
                    newBalance: entry.balanceAfter,
                    amountPaid: Money(cents: package.priceCents),
                    currency: package.currency
                )
            )
        case .pending(let paymentID, let clientSecret):
            try StoredResponse(status: .accepted, encoding: PendingPurchaseResponse(paymentIntentID: paymentID, clientSecret: clientSecret))
        case .declined(let message):
            StoredResponse(Problem(.paymentRequired, code: "payment_failed", detail: message))
        }
    }
}

extension LedgerError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .insufficientCredits(let required, let balance):
            Problem(
                .paymentRequired,
                code: "insufficient_credits",
                detail: "This costs \(required) credits and the balance is \(balance).",
                extensions: ["required": required, "balance": balance]
            )
        case .balanceLimit(let limit, let balance):
            Problem(
                .unprocessableContent,
                code: "balance_limit",
                detail: "This would take the balance of \(balance) above \(limit) credits.",
                extensions: ["limit": limit, "balance": balance]
            )
        case .unknownUser:
            .notFound("User")
        }
    }
}
