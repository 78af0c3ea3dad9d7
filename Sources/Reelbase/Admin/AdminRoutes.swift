import Foundation
import Hummingbird

/// `/v1/admin`: credit grants, the ledger audit and role changes, for admins (the role in the database).
struct AdminRoutes {
    let credits: any CreditStore
    let roles: any RoleStore
    let idempotency: IdempotencyStore

    struct RoleRequest: Decodable {
        var role: String
    }

    struct GrantRequest: Decodable {
        var userID: UUID
        var credits: Int
        var reason: String
        /// ISO 8601, with or without fractional seconds; a string here so that a bad one is a field error of its own.
        var expiresAt: String?
        var expiresInDays: Int?

        enum CodingKeys: String, CodingKey {
            case credits, reason
            case userID = "user_id"
            case expiresAt = "expires_at"
            case expiresInDays = "expires_in_days"
        }

        /// What makes two grants "the same request" for an idempotency key: the fields as sent (`expires_in_days`,
        /// not the instant it came to).
        var fingerprint: RequestFingerprint {
            RequestFingerprint(
                self.userID.lowercased, String(self.credits), self.reason, self.expiresAt ?? "", self.expiresInDays.map(String.init) ?? "")
        }
    }

    struct GrantResponse: Encodable {
        var userID: String
        var grant: Grant

        enum CodingKeys: String, CodingKey {
            case userID = "user_id"
            case expiresAt = "expires_at"
        }

        func encode(to encoder: any Encoder) throws {
            try self.grant.row.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.userID, forKey: .userID)
            // `null` for a lot that never expires: the key is always there.
            try container.encode(self.grant.expiresAt, forKey: .expiresAt)
        }
    }

    struct AuditResponse: ResponseEncodable {
        var usersChecked: Int
        var mismatches: [CreditLedger.Mismatch]
        var overdueLots: [CreditLedger.ExpiringLot]
        var promoCodesOverLimit: [CreditLedger.OverRedeemedCode]
        var paymentMismatches: [CreditLedger.PaymentMismatch]
        var referralsRewardedTwice: [CreditLedger.RepeatedReferralBonus]
        var subscriptionPeriodsGrantedTwice: [CreditLedger.RepeatedSubscriptionGrant]

        enum CodingKeys: String, CodingKey {
            case mismatches
            case usersChecked = "users_checked"
            case overdueLots = "overdue_lots"
            case promoCodesOverLimit = "promo_codes_over_limit"
            case paymentMismatches = "payment_mismatches"
            case referralsRewardedTwice = "referrals_rewarded_twice"
            case subscriptionPeriodsGrantedTwice = "subscription_periods_granted_twice"
        }
    }

    /// The longest `expires_in_days` a grant takes (ten years): longer is a typo more often than a wish.
    static let grantDaysLimit = 3650

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("credits/grants", use: self.grant)
        group.get("credits/audit", use: self.audit)
        group.put("users/:user_id/role", use: self.setRole)
    }

    /// With an `Idempotency-Key`, a retried grant answers as the first did instead of granting twice.
    @Sendable func grant(_ request: Request, context: AppRequestContext) async throws -> Response {
        let adminID = try context.requireRole(.admin)
        let key = try request.idempotencyKey()
        let body = try await request.decodeJSON(as: GrantRequest.self, context: context)
        var validator = Validator()
        validator.check((1...1_000_000).contains(body.credits), "credits", "Must be an integer from 1 to 1000000.")
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        validator.checkLength(reason, 1...500, "reason", "Must be 1 to 500 characters.")
        let now = Date()
        var expiresAt: Date?
        if let text = body.expiresAt {
            expiresAt = validator.instant(text, "expires_at", laterThan: now)
        }
        if let days = body.expiresInDays {
            validator.check(body.expiresAt == nil, "expires_in_days", "Give expires_at or expires_in_days, not both.")
            validator.check((1...Self.grantDaysLimit).contains(days), "expires_in_days", "Must be an integer from 1 to \(Self.grantDaysLimit).")
            expiresAt = now.addingTimeInterval(Double(days) * 86_400)
        }
        try validator.validate()

        let movement = CreditLedger.Movement(
            userID: body.userID, type: .bonus, credits: body.credits, description: reason,
            extraData: ["granted_by": adminID.lowercased], expiresAt: expiresAt, balanceLimit: CreditLedger.grantBalanceLimit)
        let answer = try await self.idempotency.perform(
            key.map { IdempotentRequest(userID: adminID, scope: .creditGrant, key: $0, fingerprint: body.fingerprint) }
        ) { connection in
            let grant = try await self.credits.grant(movement, by: adminID, on: connection)
            return try StoredResponse(status: .created, encoding: GrantResponse(userID: body.userID.lowercased, grant: grant))
        }
        context.logger.notice("credits granted", metadata: ["to": .string(body.userID.lowercased), "credits": "\(body.credits)"])
        return answer.response
    }

    @Sendable func audit(_ request: Request, context: AppRequestContext) async throws -> AuditResponse {
        _ = try context.requireRole(.admin)
        let report = try await self.credits.audit()
        return AuditResponse(
            usersChecked: report.usersChecked, mismatches: report.mismatches, overdueLots: report.overdueLots,
            promoCodesOverLimit: report.overRedeemedCodes, paymentMismatches: report.paymentMismatches,
            referralsRewardedTwice: report.referralsRewardedTwice, subscriptionPeriodsGrantedTwice: report.subscriptionPeriodsGrantedTwice)
    }

    @Sendable func setRole(_ request: Request, context: AppRequestContext) async throws -> UserWithRole {
        let adminID = try context.requireRole(.admin)
        let userID = try context.parameters.uuid("user_id", resource: "User")
        let body = try await request.decodeJSON(as: RoleRequest.self, context: context)
        guard let role = UserRole(rawValue: body.role) else {
            throw Problem.validation(field: "role", "Must be one of \(UserRole.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        let user = try await self.roles.setRole(role, of: .id(userID), by: adminID)
        context.logger.notice("role set", metadata: ["target": .string(userID.lowercased), "role": .string(role.rawValue)])
        return UserWithRole(profile: user.profile, role: user.role)
    }
}

extension RoleChangeError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .unknownUser: Problem.notFound("User")
        case .lastAdmin: Problem.lastAdmin
        }
    }
}

extension Problem {
    /// A demotion or suspension that would leave no unsuspended admin.
    static let lastAdmin = Problem(
        .conflict, code: "last_admin", detail: "This is the last unsuspended admin; appoint another admin first.")
}
