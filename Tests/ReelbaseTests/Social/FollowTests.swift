import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

@Suite("Follows: idempotent follow and unfollow, lists, exact counts")
struct FollowTests {
    @Test(arguments: TestDatabase.allCases)
    func followAndUnfollowAreIdempotentWithExactShapes(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let star = try await client.register()
            let fan = try await client.register()

            let followed = try await client.post("/v1/follows/\(star.id.uppercased())", token: fan.accessToken)
            #expect(followed.status == .ok)
            #expect(try keys(of: followed) == ["follower_count", "is_following", "user_id"])
            #expect(try followed.decode(API.FollowStatus.self) == API.FollowStatus(userId: star.id, isFollowing: true, followerCount: 1))
            #expect(try await client.post("/v1/follows/\(star.id)", token: fan.accessToken).decode(API.FollowStatus.self).followerCount == 1)
            #expect(try await client.get("/v1/users/\(star.id)").decode(API.Profile.self).followerCount == 1)
            #expect(try await client.get("/v1/users/\(fan.id)").decode(API.Profile.self).followingCount == 1)

            let check = try await client.get("/v1/follows/\(star.id)/check", token: fan.accessToken)
            #expect(check.status == .ok)
            #expect(try keys(of: check) == ["is_following", "user_id"])
            #expect(try check.decode(API.FollowCheck.self).isFollowing == true)
            #expect(try await client.get("/v1/follows/\(fan.id)/check", token: star.accessToken).decode(API.FollowCheck.self).isFollowing == false)

            let unfollowed = try await client.delete("/v1/follows/\(star.id)", token: fan.accessToken)
            #expect(unfollowed.status == .ok)
            #expect(try unfollowed.decode(API.FollowStatus.self).isFollowing == false)
            #expect(try unfollowed.decode(API.FollowStatus.self).followerCount == 0)
            #expect(try await client.delete("/v1/follows/\(star.id)", token: fan.accessToken).decode(API.FollowStatus.self).followerCount == 0)
            #expect(try await client.get("/v1/users/\(fan.id)").decode(API.Profile.self).followingCount == 0)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func selfUnknownAndAnonymousAreRefused(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let me = try await client.register()
            try await client.post("/v1/follows/\(me.id)", token: me.accessToken).expectProblem(422, code: "cannot_follow_self")
            try await client.delete("/v1/follows/\(me.id)", token: me.accessToken).expectProblem(422, code: "cannot_follow_self")
            for id in [UUID().uuidString, "nobody"] {
                try await client.post("/v1/follows/\(id)", token: me.accessToken).expectProblem(404, code: "not_found")
                try await client.delete("/v1/follows/\(id)", token: me.accessToken).expectProblem(404, code: "not_found")
                try await client.get("/v1/follows/\(id)/check", token: me.accessToken).expectProblem(404, code: "not_found")
                try await client.get("/v1/users/\(id)/followers").expectProblem(404, code: "not_found")
                try await client.get("/v1/users/\(id)/following").expectProblem(404, code: "not_found")
            }
            try await client.post("/v1/follows/\(UUID().uuidString)").expectProblem(401, code: "unauthorized")
            #expect(try await client.get("/v1/users/\(me.id)").decode(API.Profile.self).followingCount == 0)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func checkBatchIsAFixedPathNotAFollowTarget(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let me = try await client.register()
            let response = try await client.post("/v1/follows/check-batch", token: me.accessToken, json: ["user_ids": [me.id]])
            #expect(response.status == .ok)
            #expect(try keys(of: response) == ["following_users"])
            // Also with a trailing slash, and with no body it is a batch that lacks its ids, not a follow.
            #expect(try await client.post("/v1/follows/check-batch/", token: me.accessToken, json: ["user_ids": [me.id]]).status == .ok)
            try await client.request(.post, "/v1/follows/check-batch", token: me.accessToken, rawBody: "{}")
                .expectProblem(422, code: "validation_failed")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func listsPageWithViewerStateInOneStatement(_ database: TestDatabase) async throws {
        let statements = StatementLog()
        try await TestApp.run(database, statements: statements) { client in
            let star = try await client.register()
            let viewer = try await client.register()
            var fans: [TestClient.User] = []
            for _ in 0..<5 {
                let fan = try await client.register()
                fans.append(fan)
                #expect(try await client.post("/v1/follows/\(star.id)", token: fan.accessToken).status == .ok)
            }
            // The viewer follows fans 0 and 1; fans 1 and 2 follow the viewer.
            for fan in fans[0...1] { #expect(try await client.post("/v1/follows/\(fan.id)", token: viewer.accessToken).status == .ok) }
            for fan in fans[1...2] { #expect(try await client.post("/v1/follows/\(viewer.id)", token: fan.accessToken).status == .ok) }

            let anonymous = try await client.walk("/v1/users/\(star.id)/followers", as: API.UserPage.self, limit: 2, itemKeys: userKeys)
            #expect(anonymous.map(\.profile.id) == fans.map(\.id).reversed())

            _ = statements.drain()
            let page = try await client.get("/v1/users/\(star.id)/followers?limit=5", token: viewer.accessToken)
            // One statement finds the user (404 otherwise), one reads the page with every row's viewer state.
            #expect(statements.drainAuthenticated().count == 2)
            #expect(try keys(of: page) == ["users", "next_cursor", "has_more"])
            let body = try page.decode(API.UserPage.self)
            #expect(body.hasMore == false && body.nextCursor == nil)
            let users = body.users
            #expect(try shape(of: page)["users"].elements.allSatisfy { $0.keys == userKeys.union(["is_following", "follows_you"]) })
            let state = Dictionary(uniqueKeysWithValues: users.map { ($0.profile.id, ($0.isFollowing, $0.followsYou)) })
            for (index, fan) in fans.enumerated() {
                #expect(state[fan.id]?.0 == (index <= 1), "is_following of fan \(index)")
                #expect(state[fan.id]?.1 == (1...2).contains(index), "follows_you of fan \(index)")
            }

            let following = try await client.walk("/v1/users/\(viewer.id)/following", as: API.UserPage.self, limit: 1, token: fans[1].accessToken)
            #expect(following.map(\.profile.id) == [fans[1].id, fans[0].id])
            // fans[1] looks at themselves and at fans[0], whom they do not follow and who does not follow them.
            #expect(following.allSatisfy { $0.isFollowing == false && $0.followsYou == false })
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func listsStayStableWhileFollowsComeAndGo(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let star = try await client.register()
            var fans: [TestClient.User] = []
            for _ in 0..<12 {
                let fan = try await client.register()
                fans.append(fan)
                #expect(try await client.post("/v1/follows/\(star.id)", token: fan.accessToken).status == .ok)
            }
            let leaving = Array(fans.shuffled().prefix(4))
            let stable = Set(fans.map(\.id)).subtracting(leaving.map(\.id))
            var joining: [TestClient.User] = []
            for _ in 0..<4 { joining.append(try await client.register()) }
            let newcomers = joining
            let seen = try await withThrowingTaskGroup(of: [String].self) { group in
                group.addTask {
                    try await client.walk("/v1/users/\(star.id)/followers", as: API.UserPage.self, limit: 2).map(\.profile.id)
                }
                group.addTask {
                    for (gone, new) in zip(leaving, newcomers) {
                        let unfollowed = try await client.delete("/v1/follows/\(star.id)", token: gone.accessToken)
                        #expect(unfollowed.status == .ok)
                        await Task.yield()
                        let followed = try await client.post("/v1/follows/\(star.id)", token: new.accessToken)
                        #expect(followed.status == .ok)
                    }
                    return []
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(seen.count == Set(seen).count)
            #expect(stable.isSubset(of: Set(seen)))
            #expect(try await client.get("/v1/users/\(star.id)").decode(API.Profile.self).followerCount == 12)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func concurrentFollowsAndUnfollowsCountExactly(_ database: TestDatabase) async throws {
        // 32 requests at a time race on ten users' rows (counters, and the locks that serialise follows with blocks):
        // mutual pairs race each other and each request is sent twice. Not all 180 at once: that would queue them for
        // the pool instead (see ``concurrently(_:width:_:)``), and what is under test is the counts.
        try await TestApp.run(database, settings: ["database.pool.size": "40"]) { client in
            var registered: [TestClient.User] = []
            for _ in 0..<10 { registered.append(try await client.register()) }
            let users = registered
            let pairs = users.flatMap { a in users.filter { $0.id != a.id }.map { (a, $0) } }
            try await concurrently((pairs + pairs).shuffled(), width: 32) { follower, target in
                let response = try await client.post("/v1/follows/\(target.id)", token: follower.accessToken)
                #expect(response.status == .ok, "\(response.text)")
            }
            for user in users {
                let profile = try await client.get("/v1/users/\(user.id)").decode(API.Profile.self)
                #expect(profile.followerCount == 9 && profile.followingCount == 9)
            }

            // Users 0..<5 unfollow everyone while users 5..<10 follow everyone again.
            try await concurrently(pairs.shuffled(), width: 32) { follower, target in
                let leaving = users.prefix(5).contains { $0.id == follower.id }
                let method: HTTPRequest.Method = leaving ? .delete : .post
                let response = try await client.request(method, "/v1/follows/\(target.id)", token: follower.accessToken)
                #expect(response.status == .ok, "\(response.text)")
            }
            for (index, user) in users.enumerated() {
                let profile = try await client.get("/v1/users/\(user.id)").decode(API.Profile.self)
                let followers = try await client.walk("/v1/users/\(user.id)/followers", as: API.UserPage.self, limit: 100)
                let following = try await client.walk("/v1/users/\(user.id)/following", as: API.UserPage.self, limit: 100)
                #expect(profile.followerCount == followers.count)
                #expect(profile.followingCount == following.count)
                #expect(following.count == (index < 5 ? 0 : 9))
                #expect(followers.count == (index < 5 ? 5 : 4))
            }
        }
    }
}
