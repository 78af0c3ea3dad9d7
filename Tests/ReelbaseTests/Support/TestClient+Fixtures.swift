import Configuration
import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

/// What many suites set up through the API: users, videos, credits, effect jobs; and the cursor-list walk.
extension TestClient {
    /// A new user made admin as an operator makes one: `reelbase users set-role` on the app's database. Their
    /// token is an admin's from the next request on, since roles are read per request.
    func registerAdmin() async throws -> User {
        let user = try await self.register()
        try await self.setRole(email: user.email, role: .admin)
        return user
    }

    /// Runs `reelbase users set-role` (parsed from its arguments, configured as the command configures itself, with
    /// an empty environment) against the app's database while the app runs.
    func setRole(email: String, role: UserRole) async throws {
        guard let databaseURL else { throw TestSetupError("this TestClient was made without its app's databaseURL") }
        let command = try SetRoleCommand.parse(["--database-url", databaseURL, "--email", email, "--role", role.rawValue])
        let configuration = try AppConfiguration(
            reader: command.commandLine.reader(environment: EnvironmentVariablesProvider(environmentVariables: [:])))
        try await command.run(configuration: configuration, logger: TestApp.logger)
    }

    /// Publishes a video through the API and returns its id.
    @discardableResult
    func createVideo(_ user: User, title: String = "A clip", description: String? = nil) async throws -> String {
        let response = try await self.post(
            "/v1/videos/", token: user.accessToken,
            json: VideoBody(
                title: title, description: description, video_url: "https://cdn.example.com/\(UUID().uuidString).mp4", duration_seconds: 15))
        guard response.status == .created else { throw TestSetupError("create video failed: \(response.status) \(response.text)") }
        return try response.decode(API.Video.self).id
    }

    struct VideoBody: Encodable, Sendable {
        var title: String
        var description: String?
        var video_url: String
        var duration_seconds: Int
    }

    /// Buys a package with the mock gateway.
    func purchase(
        _ user: User, package: String = "basic_500", token: String = "tok_visa", key: String? = nil
    ) async throws -> TestResponse {
        var headers = HTTPFields()
        if let key { headers[.idempotencyKey] = key }
        return try await self.post(
            "/v1/credits/purchase", token: user.accessToken,
            json: ["package_id": package, "payment_method": "card", "payment_token": token], headers: headers)
    }

    /// Subscribes to a plan with the mock gateway.
    func subscribe(_ user: User, plan: String = "plus_monthly", token: String = "tok_visa", key: String? = nil) async throws -> TestResponse {
        var headers = HTTPFields()
        if let key { headers[.idempotencyKey] = key }
        return try await self.post(
            "/v1/subscriptions", token: user.accessToken, json: ["plan_id": plan, "payment_method": "card", "payment_token": token], headers: headers)
    }

    func grant(_ credits: Int, to user: User, admin: User) async throws {
        let response = try await self.post(
            "/v1/admin/credits/grants", token: admin.accessToken, json: GrantBody(user_id: user.id, credits: credits, reason: "test credits"))
        guard response.status == .created else { throw TestSetupError("grant failed: \(response.text)") }
    }

    struct GrantBody: Encodable, Sendable {
        var user_id: String
        var credits: Int
        var reason: String
    }

    /// An admin, a user holding `credits` granted by that admin, and a video of the user's to apply effects to.
    func fundedUserWithVideo(credits: Int) async throws -> (admin: User, user: User, video: String) {
        let admin = try await self.registerAdmin()
        let user = try await self.register()
        try await self.grant(credits, to: user, admin: admin)
        return (admin, user, try await self.createVideo(user))
    }

    /// The user's balance; the answer must have exactly the five members of API.md.
    func balance(_ user: User) async throws -> API.Balance {
        let response = try await self.get("/v1/credits/balance", token: user.accessToken)
        guard response.status == .ok, try keys(of: response) == ["balance", "total_earned", "total_spent", "total_expired", "expiring"] else {
            throw TestSetupError("balance failed: \(response.status) \(response.text)")
        }
        return try response.decode(API.Balance.self)
    }

    /// The first page of the user's ledger history, newest first.
    func history(_ user: User) async throws -> API.History {
        let response = try await self.get("/v1/credits/history", token: user.accessToken)
        guard response.status == .ok else { throw TestSetupError("history failed: \(response.status) \(response.text)") }
        return try response.decode(API.History.self)
    }

    func audit(admin: User) async throws -> API.Audit {
        let response = try await self.get("/v1/admin/credits/audit", token: admin.accessToken)
        guard response.status == .ok else { throw TestSetupError("audit failed: \(response.status) \(response.text)") }
        return try response.decode(API.Audit.self)
    }

    /// The ledger audit, as a new admin, finds no mismatch, of wallets or of payments.
    func expectCleanAudit(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let admin = try await self.registerAdmin()
        let audit = try await self.audit(admin: admin)
        #expect(
            audit.mismatches.isEmpty && audit.paymentMismatches.isEmpty && audit.referralsRewardedTwice.isEmpty
                && audit.subscriptionPeriodsGrantedTwice.isEmpty, "audit: \(audit)",
            sourceLocation: sourceLocation)
    }

    func createJob(_ user: User, video: String, effect: String = "glitch_animate", key: String? = nil) async throws -> TestResponse {
        var headers = HTTPFields()
        if let key { headers[.idempotencyKey] = key }
        return try await self.post("/v1/effects/\(effect)/jobs", token: user.accessToken, json: ["video_id": video], headers: headers)
    }

    /// Calls a worker endpoint with the service key.
    func worker(_ path: String, json: [String: String]? = nil, key: String = "test-service-key") async throws -> TestResponse {
        try await self.request(.post, "/v1/internal/effect-jobs/\(path)", token: key, json: json)
    }

    /// Walks a cursor list to its end with `limit` and returns every page's items. Every page must have exactly
    /// the list's three members, and, when `itemKeys` is given, every item exactly those.
    func walk<Page: CursorPage>(
        _ path: String, as page: Page.Type, limit: Int, token: String? = nil, itemKeys: Set<String>? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [Page.Item] {
        var items: [Page.Item] = []
        var cursor = ""
        for _ in 0..<1000 {
            // `path` may carry its own query (search's `q`).
            let response = try await self.get("\(path)\(path.contains("?") ? "&" : "?")limit=\(limit)&cursor=\(cursor)", token: token)
            guard response.status == .ok else { throw TestSetupError("\(path): \(response.status) \(response.text)") }
            let members = try shape(of: response)
            #expect(members.keys == [Page.itemsKey, "next_cursor", "has_more"], sourceLocation: sourceLocation)
            if let itemKeys {
                #expect(members[Page.itemsKey].elements.allSatisfy { $0.keys == itemKeys }, sourceLocation: sourceLocation)
            }
            let body = try response.decode(Page.self)
            items += body.items
            guard body.hasMore, let next = body.nextCursor else {
                #expect(body.nextCursor == nil, sourceLocation: sourceLocation)
                return items
            }
            cursor = next
        }
        throw TestSetupError("\(path) never ended")
    }
}

/// The social graph and safety actions many suites set up: follows, blocks, bookmarks, and reading what a viewer sees.
extension TestClient {
    /// `follower` follows `user`; the follow must be accepted (likewise below).
    func follow(_ user: User, by follower: User) async throws {
        try Self.accepted(try await self.post("/v1/follows/\(user.id)", token: follower.accessToken), "follow")
    }

    func block(_ user: User, by blocker: User) async throws {
        try Self.accepted(try await self.post("/v1/blocks/\(user.id)", token: blocker.accessToken), "block")
    }

    func unblock(_ user: User, by blocker: User) async throws {
        try Self.accepted(try await self.delete("/v1/blocks/\(user.id)", token: blocker.accessToken), "unblock")
    }

    func bookmark(_ video: String, by user: User) async throws {
        try Self.accepted(try await self.post("/v1/bookmarks/videos/\(video)", token: user.accessToken), "bookmark")
    }

    private static func accepted(_ response: TestResponse, _ action: String) throws {
        guard response.status == .ok else { throw TestSetupError("\(action) failed: \(response.status) \(response.text)") }
    }

    /// A profile as an anonymous caller reads it.
    func profile(_ user: User) async throws -> API.Profile {
        try await self.get("/v1/users/\(user.id)").decode(API.Profile.self)
    }

    /// The ids of a whole video list (feed, a user's videos, bookmarks) as `viewer` reads it.
    func videoIDs(_ path: String, viewer: User? = nil, limit: Int = 100) async throws -> [String] {
        try await self.walk(path, as: API.VideoPage.self, limit: limit, token: viewer?.accessToken).map(\.id)
    }

    /// One batch check's answer, `{"<answer key>": {id: bool}}`, which must have exactly that one member.
    func batchCheck(_ path: String, _ idsKey: String, _ ids: [String], by user: User) async throws -> [String: Bool] {
        let response = try await self.post(path, token: user.accessToken, json: [idsKey: ids])
        guard response.status == .ok else { throw TestSetupError("\(path) failed: \(response.status) \(response.text)") }
        let answer = try response.decode([String: [String: Bool]].self)
        guard answer.count == 1, let map = answer.values.first else { throw TestSetupError("\(path): \(response.text)") }
        return map
    }
}

/// What the moderation features do to a row, done beneath the API (until their endpoints exist on this branch).
extension Reelbase.Database {
    func setSuspended(_ userID: String, _ suspended: Bool) async throws {
        let at: Date? = suspended ? Date() : nil
        try await self.sql.raw("UPDATE users SET suspended_at = \(bind: at) WHERE id = \(bind: UUID(uuidString: userID)!)").run()
    }

    func setRemoved(_ videoID: String, _ removed: Bool) async throws {
        let at: Date? = removed ? Date() : nil
        try await self.sql.raw("UPDATE videos SET removed_at = \(bind: at) WHERE id = \(bind: UUID(uuidString: videoID)!)").run()
    }
}
