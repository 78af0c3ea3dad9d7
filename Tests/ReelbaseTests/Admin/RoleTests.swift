import ArgumentParser
import Foundation
import Testing

@testable import Reelbase

/// One row of the moderation log, as stored.
private struct LogRow: Decodable, Equatable {
    var actorID: UUID?
    var action: String
    var targetType: String
    var targetID: String
    var note: String?

    enum CodingKeys: String, CodingKey {
        case action, note
        case actorID = "actor_id"
        case targetType = "target_type"
        case targetID = "target_id"
    }
}

extension Reelbase.Database {
    fileprivate func moderationLog() async throws -> [LogRow] {
        try await self.sql.raw("SELECT actor_id, action, target_type, target_id, note FROM moderation_log ORDER BY created_at")
            .all(decoding: LogRow.self)
    }
}

extension TestClient {
    func putRole(_ role: String, of userID: String, by caller: User) async throws -> TestResponse {
        try await self.request(.put, "/v1/admin/users/\(userID)/role", token: caller.accessToken, json: ["role": role])
    }

    func role(of user: User) async throws -> String {
        try await self.get("/v1/users/me", token: user.accessToken).decode(API.Me.self).role
    }
}

@Suite("Roles: in the database, appointed by the command line and by admins")
struct RoleTests {
    @Test func anAdminPassesEveryModeratorCheck() {
        #expect(UserRole.admin.includes(.moderator) && UserRole.admin.includes(.admin) && UserRole.admin.includes(.user))
        #expect(UserRole.moderator.includes(.moderator) && UserRole.moderator.includes(.user) && !UserRole.moderator.includes(.admin))
        #expect(UserRole.user.includes(.user) && !UserRole.user.includes(.moderator))
    }

    /// What ADMIN_EMAILS allowed: whoever registered a listed email first became an admin.
    @Test(arguments: TestDatabase.allCases)
    func registeringAWouldBeAdminsEmailGivesNoRights(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let squatter = try await client.register(username: "admin", email: "admin@example.com")
            let victim = try await client.register()
            let me = try await client.get("/v1/users/me", token: squatter.accessToken)
            #expect(try me.decode(API.Me.self).role == "user")
            #expect(try keys(of: me) == userKeys.union(["email", "credits", "role", "referral_code"]))
            let grant = try await client.post(
                "/v1/admin/credits/grants", token: squatter.accessToken,
                json: TestClient.GrantBody(user_id: squatter.id, credits: 1_000_000, reason: "free money"))
            try grant.expectProblem(403, code: "forbidden")
            try await client.get("/v1/admin/credits/audit", token: squatter.accessToken).expectProblem(403, code: "forbidden")
            try await client.putRole("admin", of: squatter.id, by: squatter).expectProblem(403, code: "forbidden")
            try await client.putRole("user", of: victim.id, by: squatter).expectProblem(403, code: "forbidden")
            #expect(try await client.balance(squatter).balance == 0)
            // Without a token it is 401, as everywhere.
            try await client.request(.put, "/v1/admin/users/\(victim.id)/role", json: ["role": "admin"])
                .expectProblem(401, code: "unauthorized")
        }
    }

    /// The operator's path: the app serves, `reelbase users set-role` writes the same database, and the very next
    /// request of the already signed-in user has the role.
    @Test(arguments: TestDatabase.allCases)
    func setRoleWorksAgainstARunningServer(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let user = try await client.register()
            let grantee = try await client.register()
            let grant = TestClient.GrantBody(user_id: grantee.id, credits: 25, reason: "welcome")
            try await client.post("/v1/admin/credits/grants", token: user.accessToken, json: grant).expectProblem(403, code: "forbidden")

            try await client.setRole(email: user.email.uppercased(), role: .admin)
            #expect(try await client.role(of: user) == "admin")
            #expect(try await client.post("/v1/admin/credits/grants", token: user.accessToken, json: grant).status == .created)
            // Setting the role it has changes nothing and records nothing.
            try await client.setRole(email: user.email, role: .admin)

            await #expect(throws: ExitCode(1)) { try await client.setRole(email: "nobody@example.com", role: .admin) }
            // The only admin cannot be demoted from the command line either.
            await #expect(throws: ExitCode(1)) { try await client.setRole(email: user.email, role: .user) }
            #expect(try await client.role(of: user) == "admin")

            let userID = try #require(UUID(uuidString: user.id))
            #expect(
                try await db.moderationLog() == [
                    LogRow(actorID: nil, action: "set_role", targetType: "user", targetID: user.id, note: "user -> admin"),
                    LogRow(actorID: userID, action: "grant_credits", targetType: "user", targetID: grantee.id, note: "25 credits: welcome"),
                ])
            await #expect(throws: (any Error).self) { try await db.sql.raw("UPDATE moderation_log SET note = 'edited'").run() }
            await #expect(throws: (any Error).self) { try await db.sql.raw("DELETE FROM moderation_log").run() }
            #expect(try await db.count("moderation_log") == 2)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func adminsAppointOthersAndAChangeAppliesToTheNextRequest(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let root = try await client.registerAdmin()
            let mod = try await client.register()

            let promoted = try await client.putRole("moderator", of: mod.id.uppercased(), by: root)
            #expect(promoted.status == .ok)
            #expect(try keys(of: promoted) == userKeys.union(["role"]))
            let body = try promoted.decode(API.UserWithRole.self)
            #expect(body.role == "moderator" && body.profile.id == mod.id)
            #expect(try await client.role(of: mod) == "moderator")
            // A moderator is not an admin.
            try await client.putRole("admin", of: mod.id, by: mod).expectProblem(403, code: "forbidden")
            try await client.get("/v1/admin/credits/audit", token: mod.accessToken).expectProblem(403, code: "forbidden")

            let invalid = try await client.putRole("root", of: mod.id, by: root).expectProblem(422, code: "validation_failed")
            #expect(invalid.errors?.map(\.field) == ["role"])
            try await client.putRole("admin", of: UUID().uuidString, by: root).expectProblem(404, code: "not_found")
            try await client.putRole("admin", of: "not-a-uuid", by: root).expectProblem(404, code: "not_found")

            #expect(try await client.putRole("admin", of: mod.id, by: root).status == .ok)
            #expect(try await client.get("/v1/admin/credits/audit", token: mod.accessToken).status == .ok)
            // The new admin demotes the first; from the next request on, the first is refused.
            #expect(try await client.putRole("user", of: root.id, by: mod).status == .ok)
            try await client.get("/v1/admin/credits/audit", token: root.accessToken).expectProblem(403, code: "forbidden")
            // The last admin cannot step down.
            try await client.putRole("moderator", of: mod.id, by: mod).expectProblem(409, code: "last_admin")
            #expect(try await client.role(of: mod) == "admin")

            let rootID = try #require(UUID(uuidString: root.id))
            let modID = try #require(UUID(uuidString: mod.id))
            #expect(
                try await db.moderationLog().map { [$0.actorID?.uuidString.lowercased() ?? "-", $0.targetID, $0.note ?? ""] } == [
                    ["-", root.id, "user -> admin"],
                    [rootID.uuidString.lowercased(), mod.id, "user -> moderator"],
                    [rootID.uuidString.lowercased(), mod.id, "moderator -> admin"],
                    [modID.uuidString.lowercased(), root.id, "admin -> user"],
                ])
        }
    }

    /// Two admins demote each other at the same moment: one wins; the other finds itself the last admin (`409`), or,
    /// when its request is authenticated after the first committed, is no admin any more (`403`).
    @Test(arguments: TestDatabase.allCases)
    func concurrentMutualDemotionsLeaveOneAdmin(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let first = try await client.registerAdmin()
            let second = try await client.registerAdmin()
            for round in 0..<5 {
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    group.addTask { try await client.putRole("user", of: second.id, by: first).status.code }
                    group.addTask { try await client.putRole("user", of: first.id, by: second).status.code }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == 200 }.count == 1 && statuses.allSatisfy { [200, 403, 409].contains($0) }, "round \(round): \(statuses)")
                #expect(try await db.count("users", where: "role = 'admin'") == 1, "round \(round)")
                let survivor = try await client.role(of: first) == "admin" ? first : second
                let demoted = survivor.id == first.id ? second : first
                #expect(try await client.putRole("admin", of: demoted.id, by: survivor).status == .ok)
            }
        }
    }
}
