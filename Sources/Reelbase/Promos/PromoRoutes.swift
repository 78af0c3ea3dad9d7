import Foundation
import Hummingbird

/// `POST /v1/credits/redeem` for users, and `/v1/admin/promo-codes` for admins.
struct PromoRoutes {
    let promos: any PromoStore
    let idempotency: IdempotencyStore
    let limits: RateLimiter
    let cursors: FeedCursor.Codec

    func addRoutes(credits: RouterGroup<AppRequestContext>, admin: RouterGroup<AppRequestContext>) {
        credits.post("redeem", use: self.redeem)
        admin.post("promo-codes", use: self.create)
        admin.get("promo-codes", use: self.list)
        admin.patch("promo-codes/:code", use: self.setExpiry)
    }

    struct RedeemRequest: Decodable {
        var code: String
    }

    struct RedeemResponse: Encodable {
        var redemption: PromoRedemption

        enum CodingKeys: String, CodingKey {
            case transactionID = "transaction_id"
            case creditsAdded = "credits_added"
            case newBalance = "new_balance"
            case expiresAt = "expires_at"
        }

        func encode(to encoder: any Encoder) throws {
            var json = encoder.container(keyedBy: CodingKeys.self)
            try json.encode(self.redemption.entry.id.lowercased, forKey: .transactionID)
            try json.encode(self.redemption.entry.credits, forKey: .creditsAdded)
            try json.encode(self.redemption.entry.balanceAfter, forKey: .newBalance)
            // `null` for credits that never expire: the key is always there.
            try json.encode(self.redemption.expiresAt, forKey: .expiresAt)
        }
    }

    /// Every attempt counts against `promo_user` until it succeeds, so that codes cannot be guessed at speed; a
    /// success (also a replayed one) gives its count back.
    @Sendable func redeem(_ request: Request, context: AppRequestContext) async throws -> Response {
        let userID = try context.requireUser()
        let key = try request.idempotencyKey()
        let body = try await request.decodeJSON(as: RedeemRequest.self, context: context)
        let code = NewPromoCode.normalized(body.code)
        guard !code.isEmpty else { throw Problem.validation(field: "code", "Must not be empty.") }

        let attempt = try await self.limits.reserve(.promoUser, subject: userID.lowercased)
        let answer = try await self.idempotency.perform(
            key.map { IdempotentRequest(userID: userID, scope: .promoRedemption, key: $0, fingerprint: RequestFingerprint(code)) }
        ) { connection in
            try StoredResponse(status: .ok, encoding: RedeemResponse(redemption: try await self.promos.redeem(code, for: userID, on: connection)))
        }
        try await self.limits.giveBack(attempt)
        context.logger.info("promo code redeemed", metadata: ["code": .string(code)])
        return answer.response
    }

    struct CreateRequest: Decodable {
        var code: String
        var credits: Int
        var maxRedemptions: Int?
        var expiresAt: String?
        var creditsTTLDays: Int?
        var creditsExpireAt: String?

        enum CodingKeys: String, CodingKey {
            case code, credits
            case maxRedemptions = "max_redemptions"
            case expiresAt = "expires_at"
            case creditsTTLDays = "credits_ttl_days"
            case creditsExpireAt = "credits_expire_at"
        }

        func validated(now: Date) throws -> NewPromoCode {
            var validator = Validator()
            let code = NewPromoCode.normalized(self.code)
            validator.check(
                NewPromoCode.isWellFormed(code), "code",
                "Must be \(NewPromoCode.codeLength.lowerBound) to \(NewPromoCode.codeLength.upperBound) of A-Z, 0-9, _ and -.")
            let credits = NewPromoCode.creditRange
            validator.check(credits.contains(self.credits), "credits", "Must be an integer from \(credits.lowerBound) to \(credits.upperBound).")
            if let count = self.maxRedemptions {
                let range = NewPromoCode.maxRedemptionsRange
                validator.check(range.contains(count), "max_redemptions", "Must be an integer from \(range.lowerBound) to \(range.upperBound).")
            }
            let expiresAt = self.expiresAt.flatMap { validator.instant($0, "expires_at", laterThan: now) }
            if let days = self.creditsTTLDays {
                let range = NewPromoCode.ttlDaysRange
                validator.check(range.contains(days), "credits_ttl_days", "Must be an integer from \(range.lowerBound) to \(range.upperBound).")
            }
            let creditsExpireAt = self.creditsExpireAt.flatMap { validator.instant($0, "credits_expire_at", laterThan: now) }
            validator.check(
                self.creditsTTLDays == nil || self.creditsExpireAt == nil, "credits_expire_at",
                "Give credits_ttl_days or credits_expire_at, not both.")
            try validator.validate()
            return NewPromoCode(
                code: code, credits: self.credits, maxRedemptions: self.maxRedemptions, expiresAt: expiresAt,
                creditsTTLDays: self.creditsTTLDays, creditsExpireAt: creditsExpireAt)
        }
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<PromoCode> {
        let adminID = try context.requireRole(.admin)
        let code = try await request.decodeJSON(as: CreateRequest.self, context: context).validated(now: Date())
        let created = try await self.promos.create(code, by: adminID)
        context.logger.notice("promo code created", metadata: ["code": .string(created.code), "credits": "\(created.credits)"])
        return EditedResponse(status: .created, response: created)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<PromoCode> {
        _ = try context.requireRole(.admin)
        return try await CursorPageResponse(
            "promo_codes", request: request, list: "promo_codes", cursors: self.cursors,
            rows: { try await self.promos.page(after: $0.after, limit: $0.limit) }, item: { $0 })
    }

    struct ExpiryRequest: Decodable {
        var expiresAt: String

        enum CodingKeys: String, CodingKey {
            case expiresAt = "expires_at"
        }
    }

    /// Any instant, past ones included: ending a leaked code now is the point.
    @Sendable func setExpiry(_ request: Request, context: AppRequestContext) async throws -> PromoCode {
        let adminID = try context.requireRole(.admin)
        let code = NewPromoCode.normalized(try context.parameters.require("code"))
        let body = try await request.decodeJSON(as: ExpiryRequest.self, context: context)
        guard let expiresAt = Validator.instant(body.expiresAt) else {
            throw Problem.validation(field: "expires_at", "Must be an ISO 8601 instant.")
        }
        let changed = try await self.promos.setExpiry(of: code, to: expiresAt, by: adminID)
        context.logger.notice("promo code expiry set", metadata: ["code": .string(changed.code)])
        return changed
    }
}

extension PromoError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .notFound: Problem(.notFound, code: "promo_not_found", detail: "No promo code has this code.")
        case .alreadyRedeemed: Problem(.conflict, code: "promo_already_redeemed", detail: "You have already redeemed this promo code.")
        case .expired: Problem(.gone, code: "promo_expired", detail: "This promo code has expired.")
        case .exhausted: Problem(.conflict, code: "promo_exhausted", detail: "Every redemption of this promo code has been taken.")
        case .codeTaken: Problem(.conflict, code: "promo_code_taken", detail: "A promo code with this code already exists.")
        }
    }
}
