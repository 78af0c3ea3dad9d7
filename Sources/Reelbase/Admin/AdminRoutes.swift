import Foundation
import Hummingbird

/// `/v1/admin`: credit grants and the ledger audit, for the emails listed in `ADMIN_EMAILS`.
struct AdminRoutes {
    let credits: any CreditStore
    let users: any UserStore
    let adminEmails: Set<String>

    struct GrantRequest: Decodable {
        var userID: UUID
        var credits: Int
        var reason: String

        enum CodingKeys: String, CodingKey {
            case credits, reason
            case userID = "user_id"
        }
    }

    struct GrantResponse: ResponseEncodable {
        var userID: String
        var row: LedgerRow

        enum CodingKeys: String, CodingKey { case userID = "user_id" }

        func encode(to encoder: any Encoder) throws {
            try self.row.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.userID, forKey: .userID)
        }
    }

    struct AuditResponse: ResponseEncodable {
        var usersChecked: Int
        var mismatches: [CreditLedger.Mismatch]

        enum CodingKeys: String, CodingKey {
            case mismatches
            case usersChecked = "users_checked"
        }
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("credits/grants", use: self.grant)
        group.get("credits/audit", use: self.audit)
    }

    @Sendable func grant(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<GrantResponse> {
        let adminID = try await self.requireAdmin(context)
        let body = try await request.decodeJSON(as: GrantRequest.self, context: context)
        var validator = Validator()
        validator.check((1...1_000_000).contains(body.credits), "credits", "Must be an integer from 1 to 1000000.")
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        validator.checkLength(reason, 1...500, "reason", "Must be 1 to 500 characters.")
        try validator.validate()

        let movement = CreditLedger.Movement(
            userID: body.userID, type: .bonus, credits: body.credits, description: reason,
            extraData: ["granted_by": adminID.lowercased])
        let row = try await self.credits.grant(movement)
        context.logger.notice("credits granted", metadata: ["to": .string(body.userID.lowercased), "credits": "\(body.credits)"])
        return EditedResponse(status: .created, response: GrantResponse(userID: body.userID.lowercased, row: row))
    }

    @Sendable func audit(_ request: Request, context: AppRequestContext) async throws -> AuditResponse {
        _ = try await self.requireAdmin(context)
        let (checked, mismatches) = try await self.credits.audit()
        return AuditResponse(usersChecked: checked, mismatches: mismatches)
    }

    private func requireAdmin(_ context: AppRequestContext) async throws -> UUID {
        let userID = try context.requireUser()
        guard let user = try await self.users.find(id: userID), self.adminEmails.contains(user.email) else {
            throw Problem.forbidden("Only administrators may do this.")
        }
        return userID
    }
}
