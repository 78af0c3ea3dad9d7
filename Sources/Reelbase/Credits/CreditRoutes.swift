import Foundation
import Hummingbird

/// `/v1/credits`: the seed's wallet endpoints.
struct CreditRoutes {
    let catalog: CreditCatalog
    let purchases: CreditPurchases
    let store: any CreditStore

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("packages", use: self.packages)
        group.post("purchase", use: self.purchase)
        group.get("balance", use: self.balance)
        group.get("history", use: self.history)
    }

    @Sendable func packages(_ request: Request, context: AppRequestContext) async throws -> PackageList {
        PackageList(self.catalog)
    }

    @Sendable func purchase(_ request: Request, context: AppRequestContext) async throws -> Response {
        let userID = try context.requireUser()
        let key = try request.idempotencyKey()
        let body = try await request.decodeJSON(as: PurchaseRequest.self, context: context)
        let (stored, replayed) = try await self.purchases.purchase(body, userID: userID, idempotencyKey: key)
        return stored.response(replayed: replayed)
    }

    @Sendable func balance(_ request: Request, context: AppRequestContext) async throws -> BalanceResponse {
        let userID = try context.requireUser()
        guard let balance = try await self.store.balance(userID: userID) else {
            throw Problem.unauthorized("The account no longer exists.")
        }
        return balance
    }

    @Sendable func history(_ request: Request, context: AppRequestContext) async throws -> HistoryResponse {
        let userID = try context.requireUser()
        let query = try HistoryQuery(Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { $1 }))
        return try await self.store.history(userID: userID, query: query)
    }
}
