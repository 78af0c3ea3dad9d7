import Foundation
import Hummingbird

/// `/v1/users`: the caller's own account and public profiles.
struct UserRoutes {
    let users: any UserStore
    let urls: URLRule

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("me", use: self.me)
        group.patch("me", use: self.updateMe)
        group.get(":user_id", use: self.profile)
    }

    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> CurrentUser {
        let userID = try context.requireUser()
        guard let user = try await self.users.find(id: userID) else { throw Problem.unauthorized("The account no longer exists.") }
        return CurrentUser(profile: user.profile, email: user.email, credits: user.credits, role: user.role, referralCode: user.referralCode)
    }

    @Sendable func updateMe(_ request: Request, context: AppRequestContext) async throws -> UserProfile {
        let userID = try context.requireUser()
        let change = try await request.decodeJSON(as: UpdateProfileRequest.self, context: context).validated(urls: self.urls)
        guard let user = try await self.users.updateProfile(id: userID, change) else {
            throw Problem.unauthorized("The account no longer exists.")
        }
        return user.profile
    }

    @Sendable func profile(_ request: Request, context: AppRequestContext) async throws -> UserProfile {
        let userID = try context.parameters.uuid("user_id", resource: "User")
        guard let user = try await self.users.find(id: userID, visibleTo: context.userID) else { throw Problem.notFound("User") }
        return user.profile
    }
}

extension Parameters {
    /// A path id; one that is not a UUID names nothing, so it is a `404` like any unknown id.
    func uuid(_ name: String, resource: String) throws -> UUID {
        guard let text = self.get(name), let id = UUID(text: text) else { throw Problem.notFound(resource) }
        return id
    }
}
