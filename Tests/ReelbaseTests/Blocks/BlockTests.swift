import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

@Suite("Blocks: block and unblock, follows removed with their counters, invisible both ways")
struct BlockTests {
    @Test(arguments: TestDatabase.allCases)
    func blockWhileFollowingEachOtherRemovesBothFollowsAndFixesAllFourCounters(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let ann = try await client.register()
            let bob = try await client.register()
            let cat = try await client.register()
            try await client.follow(bob, by: ann)
            try await client.follow(ann, by: bob)
            // Follows with a third user stay, and keep their counts.
            try await client.follow(ann, by: cat)
            try await client.follow(cat, by: bob)

            let blocked = try await client.post("/v1/blocks/\(bob.id.uppercased())", token: ann.accessToken)
            #expect(blocked.status == .ok)
            #expect(try keys(of: blocked) == ["user_id", "is_blocked"])
            #expect(try blocked.decode(API.BlockStatus.self) == API.BlockStatus(userId: bob.id, isBlocked: true))

            let between = "(follower_id = '\(ann.id)' AND following_id = '\(bob.id)') OR (follower_id = '\(bob.id)' AND following_id = '\(ann.id)')"
            #expect(try await db.count("follows", where: database == .sqlite ? between.uppercased() : between) == 0)
            #expect(try await db.count("follows") == 2)
            let annProfile = try await client.profile(ann)
            let bobProfile = try await client.profile(bob)
            #expect((annProfile.followerCount, annProfile.followingCount) == (1, 0))
            #expect((bobProfile.followerCount, bobProfile.followingCount) == (0, 1))
            let catProfile = try await client.profile(cat)
            #expect((catProfile.followerCount, catProfile.followingCount) == (1, 1))

            // A repeat, and the other direction, change nothing more.
            #expect(try await client.post("/v1/blocks/\(bob.id)", token: ann.accessToken).decode(API.BlockStatus.self).isBlocked)
            #expect(try await client.post("/v1/blocks/\(ann.id)", token: bob.accessToken).decode(API.BlockStatus.self).isBlocked)
            #expect(try await client.profile(ann).followerCount == 1)
            #expect(try await client.profile(bob).followingCount == 1)

            // Unblocking restores visibility, not the removed follows.
            let unblocked = try await client.delete("/v1/blocks/\(bob.id)", token: ann.accessToken)
            #expect(try unblocked.decode(API.BlockStatus.self) == API.BlockStatus(userId: bob.id, isBlocked: false))
            try await client.unblock(ann, by: bob)
            #expect(try await client.get("/v1/follows/\(bob.id)/check", token: ann.accessToken).decode(API.FollowCheck.self).isFollowing == false)
            #expect(try await client.profile(bob).followerCount == 0)
            try await client.follow(bob, by: ann)
            #expect(try await client.profile(bob).followerCount == 1)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func refusalsAndIdempotentUnblock(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let me = try await client.register()
            let suspended = try await client.register()
            try await db.setSuspended(suspended.id, true)
            try await client.post("/v1/blocks/\(me.id)", token: me.accessToken).expectProblem(422, code: "cannot_block_self")
            for id in [UUID().uuidString, "nobody", suspended.id] {
                try await client.post("/v1/blocks/\(id)", token: me.accessToken).expectProblem(404, code: "not_found")
            }
            try await client.post("/v1/blocks/\(suspended.id)").expectProblem(401, code: "unauthorized")
            try await client.get("/v1/blocks").expectProblem(401, code: "unauthorized")
            // Unblocking answers for any UUID.
            for id in [UUID().uuidString.lowercased(), suspended.id, me.id] {
                let response = try await client.delete("/v1/blocks/\(id)", token: me.accessToken)
                #expect(try response.decode(API.BlockStatus.self) == API.BlockStatus(userId: id, isBlocked: false))
            }
            try await client.delete("/v1/blocks/nobody", token: me.accessToken).expectProblem(404, code: "not_found")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func listIsNewestBlockFirstWithoutSuspendedUsers(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let me = try await client.register()
            var blocked: [TestClient.User] = []
            for _ in 0..<5 {
                let user = try await client.register()
                try await client.block(user, by: me)
                blocked.append(user)
            }
            // Someone who blocks me is not in my list.
            let blocksMe = try await client.register()
            try await client.block(me, by: blocksMe)
            let listed = try await client.walk("/v1/blocks", as: API.UserPage.self, limit: 2, token: me.accessToken, itemKeys: userKeys)
            #expect(listed.map(\.profile.id) == blocked.reversed().map(\.id))
            #expect(try await client.walk("/v1/blocks/", as: API.UserPage.self, limit: 100, token: me.accessToken).count == 5)

            try await db.setSuspended(blocked[1].id, true)
            let withoutSuspended = try await client.walk("/v1/blocks", as: API.UserPage.self, limit: 3, token: me.accessToken)
            #expect(withoutSuspended.map(\.profile.id) == [blocked[4], blocked[3], blocked[2], blocked[0]].map(\.id))
            try await db.setSuspended(blocked[1].id, false)
            #expect(try await client.walk("/v1/blocks", as: API.UserPage.self, limit: 3, token: me.accessToken).count == 5)

            // A cursor of my list is no cursor of another's.
            let page = try await client.get("/v1/blocks?limit=1", token: me.accessToken).decode(API.UserPage.self)
            let cursor = try #require(page.nextCursor)
            try await client.get("/v1/blocks?limit=1&cursor=\(cursor)", token: blocksMe.accessToken)
                .expectProblem(422, code: "validation_failed")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func checkBatchAnswersWhetherTheCallerBlocksEach(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let me = try await client.register()
            let blocked = try await client.register()
            let blocksMe = try await client.register()
            let stranger = try await client.register()
            let blockedThenSuspended = try await client.register()
            try await client.block(blocked, by: me)
            try await client.block(blockedThenSuspended, by: me)
            try await client.block(me, by: blocksMe)
            try await db.setSuspended(blockedThenSuspended.id, true)
            let unknown = UUID().uuidString.lowercased()
            let answer = try await client.batchCheck(
                "/v1/blocks/check-batch", "user_ids",
                [blocked.id.uppercased(), blocksMe.id, stranger.id, unknown, me.id, blockedThenSuspended.id, blocked.id], by: me)
            #expect(answer == [
                blocked.id: true, blocksMe.id: false, stranger.id: false, unknown: false, me.id: false, blockedThenSuspended.id: false,
            ])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func eitherPartyCannotActOnOrSeeTheOther(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let (admin, blocker, blockerVideo) = try await client.fundedUserWithVideo(credits: 100)
            let blocked = try await client.register()
            try await client.grant(100, to: blocked, admin: admin)
            let blockedVideo = try await client.createVideo(blocked)
            try await client.block(blocked, by: blocker)

            // Each direction: the other user and their video are as if they did not exist.
            for (me, other, otherVideo) in [(blocker, blocked, blockedVideo), (blocked, blocker, blockerVideo)] {
                let token = me.accessToken
                try await client.get("/v1/users/\(other.id)", token: token).expectProblem(404, code: "not_found")
                for list in ["videos", "followers", "following"] {
                    try await client.get("/v1/users/\(other.id)/\(list)", token: token).expectProblem(404, code: "not_found")
                }
                try await client.get("/v1/videos/\(otherVideo)", token: token).expectProblem(404, code: "not_found")
                try await client.post("/v1/follows/\(other.id)", token: token).expectProblem(404, code: "not_found")
                try await client.delete("/v1/follows/\(other.id)", token: token).expectProblem(404, code: "not_found")
                try await client.get("/v1/follows/\(other.id)/check", token: token).expectProblem(404, code: "not_found")
                try await client.post("/v1/likes/videos/\(otherVideo)", token: token).expectProblem(404, code: "not_found")
                try await client.delete("/v1/likes/videos/\(otherVideo)", token: token).expectProblem(404, code: "not_found")
                try await client.get("/v1/likes/videos/\(otherVideo)/check", token: token).expectProblem(404, code: "not_found")
                try await client.post("/v1/bookmarks/videos/\(otherVideo)", token: token).expectProblem(404, code: "not_found")
                try await client.createJob(me, video: otherVideo).expectProblem(404, code: "not_found")
                // Removing one's own bookmark always works.
                #expect(try await client.delete("/v1/bookmarks/videos/\(otherVideo)", token: token).status == .ok)
            }
            // Nothing was charged, and anonymous callers and third parties still see both.
            #expect(try await client.balance(blocker).balance == 100)
            #expect(try await client.balance(blocked).balance == 100)
            #expect(try await client.get("/v1/videos/\(blockedVideo)").status == .ok)
            let third = try await client.register()
            #expect(try await client.get("/v1/users/\(blocked.id)", token: third.accessToken).status == .ok)
            #expect(try await client.post("/v1/likes/videos/\(blockedVideo)", token: third.accessToken).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func blockedUsersVideoLeavesEverySurfaceAndReturnsAfterUnblock(_ database: TestDatabase) async throws {
        let statements = StatementLog()
        try await TestApp.run(database, statements: statements) { client in
            let me = try await client.register()
            let blocked = try await client.register()
            let friend = try await client.register()
            let mine = try await client.createVideo(me)
            // Interleaved, so that a page filtered after the fact would come up short.
            var friendVideos: [String] = []
            var blockedVideos: [String] = []
            for index in 0..<6 {
                friendVideos.append(try await client.createVideo(friend, title: "friend \(index)"))
                blockedVideos.append(try await client.createVideo(blocked, title: "blocked \(index)"))
                blockedVideos.append(try await client.createVideo(blocked, title: "blocked \(index)b"))
            }
            let video = blockedVideos[0]
            #expect(try await client.post("/v1/likes/videos/\(video)", token: me.accessToken).status == .ok)
            try await client.bookmark(video, by: me)
            try await client.bookmark(friendVideos[0], by: me)
            try await client.follow(blocked, by: me)
            try await client.follow(friend, by: blocked)
            try await client.follow(friend, by: me)

            try await client.block(blocked, by: me)

            // The feed: only the friend's videos, every page full while more follow, each page one statement.
            var cursor = ""
            var seen: [String] = []
            while true {
                _ = statements.drain()
                let page = try await client.get("/v1/videos/?limit=2&cursor=\(cursor)", token: me.accessToken).decode(API.VideoPage.self)
                #expect(statements.drainAuthenticated().count == 1)
                seen += page.videos.map(\.id)
                guard page.hasMore, let next = page.nextCursor else { break }
                #expect(page.videos.count == 2)
                cursor = next
            }
            #expect(seen == friendVideos.reversed() + [mine])
            // Anonymous callers still see everything.
            #expect(try await client.videoIDs("/v1/videos").count == 19)
            #expect(try await client.videoIDs("/v1/bookmarks", viewer: me) == [friendVideos[0]])
            let followers = try await client.walk("/v1/users/\(friend.id)/followers", as: API.UserPage.self, limit: 10, token: me.accessToken)
            #expect(followers.map(\.profile.id) == [me.id])
            #expect(try await client.batchCheck("/v1/likes/check-batch", "video_ids", [video], by: me) == [video: false])
            #expect(try await client.batchCheck("/v1/bookmarks/check-batch", "video_ids", [video], by: me) == [video: false])
            #expect(try await client.batchCheck("/v1/follows/check-batch", "user_ids", [blocked.id], by: me) == [blocked.id: false])
            // The blocked user sees the same from their side.
            #expect(try await client.videoIDs("/v1/users/\(friend.id)/videos", viewer: blocked) == friendVideos.reversed())
            let blockedFeed = try await client.videoIDs("/v1/videos", viewer: blocked, limit: 4)
            #expect(blockedFeed.count == 18 && !blockedFeed.contains(mine))
            try await client.get("/v1/videos/\(mine)", token: blocked.accessToken).expectProblem(404, code: "not_found")

            try await client.unblock(blocked, by: me)

            #expect(try await client.videoIDs("/v1/videos", viewer: me, limit: 5).count == 19)
            #expect(try await client.videoIDs("/v1/users/\(blocked.id)/videos", viewer: me) == blockedVideos.reversed())
            #expect(try await client.videoIDs("/v1/bookmarks", viewer: me) == [friendVideos[0], video])
            let back = try await client.get("/v1/videos/\(video)", token: me.accessToken).decode(API.Video.self)
            #expect((back.isLiked, back.isBookmarked, back.isFollowing) == (true, true, false))
            #expect(try await client.batchCheck("/v1/likes/check-batch", "video_ids", [video], by: me) == [video: true])
            #expect(try await client.batchCheck("/v1/bookmarks/check-batch", "video_ids", [video], by: me) == [video: true])
            let followersAfter = try await client.walk("/v1/users/\(friend.id)/followers", as: API.UserPage.self, limit: 10, token: me.accessToken)
            #expect(Set(followersAfter.map(\.profile.id)) == [me.id, blocked.id])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func noFollowSurvivesARacingBlock(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: ["database.pool.size": "32"]) { client, db in
            for round in 0..<8 {
                let ann = try await client.register()
                let bob = try await client.register()
                let statuses = try await withThrowingTaskGroup(of: (String, Int).self) { group in
                    for _ in 0..<3 {
                        group.addTask { ("follow", try await client.post("/v1/follows/\(bob.id)", token: ann.accessToken).status.code) }
                        group.addTask { ("follow", try await client.post("/v1/follows/\(ann.id)", token: bob.accessToken).status.code) }
                    }
                    group.addTask {
                        let blocker = round.isMultiple(of: 2) ? ann : bob
                        let target = round.isMultiple(of: 2) ? bob : ann
                        return ("block", try await client.post("/v1/blocks/\(target.id)", token: blocker.accessToken).status.code)
                    }
                    return try await group.reduce(into: [(String, Int)]()) { $0.append($1) }
                }
                // Each follow either landed before the block (and was removed with it) or came after it (404).
                #expect(statuses.filter { $0.0 == "block" }.map(\.1) == [200])
                #expect(statuses.filter { $0.0 == "follow" }.allSatisfy { $0.1 == 200 || $0.1 == 404 }, "\(statuses)")
                let condition = "follower_id IN ('\(ann.id)', '\(bob.id)') OR following_id IN ('\(ann.id)', '\(bob.id)')"
                #expect(try await db.count("follows", where: database == .sqlite ? condition.uppercased() : condition) == 0, "round \(round)")
                for user in [ann, bob] {
                    let profile = try await client.profile(user)
                    #expect((profile.followerCount, profile.followingCount) == (0, 0), "round \(round)")
                }
            }
        }
    }
}
