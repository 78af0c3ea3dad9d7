import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

@Suite("Search: videos and users in any script, ranked, paged, with viewer state")
struct SearchTests {
    @Test(arguments: TestDatabase.allCases)
    func findsKoreanLatinMixedAndAccentedText(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            let korean = try await client.createVideo(owner, title: "우리 고양이 영상")
            let cafe = try await client.createVideo(owner, title: "Café au lait")
            let cats = try await client.createVideo(owner, title: "Cats!")
            let mixed = try await client.createVideo(owner, title: "Daily vlog", description: "고양이 and CATS, 2024")
            let creme = try await client.createVideo(owner, title: "Dessert", description: "Crème brûlée à la maison")

            let expected: [(String, Set<String>)] = [
                ("고양이", [korean, mixed]),
                ("고양", [korean, mixed]),
                ("양이", []),
                ("영상 고양이", [korean]),
                ("cafe", [cafe]),
                ("CAFÉ", [cafe]),
                ("cat", [cats, mixed]),
                ("cats 고양이", [mixed]),
                ("creme brulee", [creme]),
                ("BRÛL", [creme]),
                ("rème", []),
                ("2024", [mixed]),
                ("cat dog", []),
            ]
            for (q, ids) in expected {
                let found = try await client.searchVideos(q)
                #expect(Set(found) == ids, "q=\(q)")
                #expect(found.count == ids.count, "q=\(q): duplicates")
            }
        }
    }

    /// Every operator of tsquery, FTS5, LIKE and SQL is plain text: a `200`, words found as words, never a `500`.
    @Test(arguments: TestDatabase.allCases)
    func operatorsAndSpecialCharactersArePlainText(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            let operators = try await client.createVideo(owner, title: "NOT NEAR or AND", description: "cat & dog | bird")
            let plain = try await client.createVideo(owner, title: "cat")
            let specials = [
                "&", "|", "!", ":*", "<->", "^", "+", "-", "*", "(", ")", "{", "}", ":", "\"", "%", "_", "\\", "'", "''", "%%", "\\%",
                "\\_", "*:*", "''':*", "\u{0}",
            ]
            for q in specials {
                for path in ["/v1/search/videos", "/v1/search/users"] {
                    let response = try await client.get("\(path)?q=\(Self.encoded(q))")
                    #expect(response.status == .ok, "\(path) q=\(q): \(response.text)")
                    #expect(try shape(of: response)[path.hasSuffix("videos") ? "videos" : "users"].elements.isEmpty, "q=\(q)")
                }
            }
            let words: [(String, Set<String>)] = [
                ("AND", [operators]), ("OR", [operators]), ("NOT", [operators]), ("NEAR", [operators]), ("NEAR(cat dog)", [operators]),
                ("cat & dog", [operators]), ("cat | bird", [operators]), ("!cat", [operators, plain]), ("cat:*", [operators, plain]),
                ("cat <-> dog", [operators]), ("\"cat", [operators, plain]), ("cat*", [operators, plain]), ("-cat", [operators, plain]),
                ("^cat", [operators, plain]), ("cat OR bird", [operators]), ("c%t", []), ("c_t", []), ("\\cat", [operators, plain]),
                ("'; DROP TABLE videos; --", []), ("cat\" OR \"x", []), ("{cat}", [operators, plain]), ("cat + dog", [operators]),
            ]
            for (q, ids) in words {
                #expect(Set(try await client.searchVideos(q)) == ids, "q=\(q)")
                let users = try await client.get("/v1/search/users?q=\(Self.encoded(q))")
                #expect(users.status == .ok, "q=\(q): \(users.text)")
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func videosRankByTierThenWholeWordsThenNewest(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            // One word: whole in the title (two, newest first), a title prefix, then description matches, whole first.
            let wholeOld = try await client.createVideo(owner, title: "cat")
            let prefix = try await client.createVideo(owner, title: "Catalog of things")
            let descriptionWhole = try await client.createVideo(owner, title: "dog", description: "a cat")
            let descriptionPrefix = try await client.createVideo(owner, title: "dog", description: "cats")
            let wholeNew = try await client.createVideo(owner, title: "The CAT")
            #expect(try await client.searchVideos("cat") == [wholeNew, wholeOld, prefix, descriptionWhole, descriptionPrefix])

            // Two words.
            let bothWhole = try await client.createVideo(owner, title: "dog and cat")
            let titlePrefixes = try await client.createVideo(owner, title: "dogs cats")
            let titleOneWhole = try await client.createVideo(owner, title: "cat dogs")
            let splitWhole = try await client.createVideo(owner, title: "cat", description: "dog")
            let splitPrefix = try await client.createVideo(owner, title: "dogma", description: "catalog")
            // Both words whole in the title; both in the title (one of them whole, then none); then the rest by whole words,
            // newest first among equals ("dog" / "a cat" and "cat" / "dog" have two each).
            #expect(
                try await client.searchVideos("Dog Cat")
                    == [bothWhole, titleOneWhole, titlePrefixes, splitWhole, descriptionWhole, descriptionPrefix, splitPrefix])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func usersRankExactThenPrefixThenDisplayName(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let viewer = try await client.register(username: "viewer")
            // Display names default to the username; these three are renamed so that only their usernames match.
            let exact = try await client.register(username: "kim_min")
            try await client.rename(exact, to: "Exact")
            let longer = try await client.register(username: "kim_minsu")
            try await client.rename(longer, to: "Longer")
            let other = try await client.register(username: "kimchi_lover")
            try await client.rename(other, to: "Other")
            let named = try await client.register(username: "zeta_user")
            try await client.rename(named, to: "Mín KIM")
            let alpha = try await client.register(username: "alpha_user")
            try await client.rename(alpha, to: "김 Kim jong")
            _ = try await client.register(username: "unrelated")
            try await client.follow(exact, by: viewer)
            try await client.follow(viewer, by: longer)

            #expect(try await client.searchUsers("kim_min") == [exact.id, longer.id, named.id])
            #expect(try await client.searchUsers("KIM") == [exact.id, longer.id, other.id, alpha.id, named.id])
            #expect(try await client.searchUsers("kim_") == [exact.id, longer.id, alpha.id, named.id])
            #expect(try await client.searchUsers("김") == [alpha.id])
            #expect(try await client.searchUsers("jong kim") == [alpha.id])
            #expect(try await client.searchUsers("min") == [named.id])
            // `_` alone is no word: an empty page, as API.md says.
            #expect(try await client.searchUsers("_") == [])

            let page = try await client.get("/v1/search/users?q=kim_min", token: viewer.accessToken)
            let users = try page.decode(API.UserPage.self).users
            #expect(users.map(\.isFollowing) == [true, false, false])
            #expect(users.map(\.followsYou) == [false, true, false])
            #expect(try shape(of: page)["users"].elements.allSatisfy { $0.keys == userKeys.union(["is_following", "follows_you"]) })
            let anonymous = try await client.get("/v1/search/users?q=kim_min")
            #expect(try shape(of: anonymous)["users"].elements.allSatisfy { $0.keys == userKeys })

            // A new name is searchable at once, and the old one is gone.
            try await client.rename(named, to: "Zed")
            #expect(try await client.searchUsers("min") == [])
            #expect(try await client.searchUsers("zed") == [named.id])
        }
    }

    /// Blocks either way, suspended owners, deleted and removed videos: never in any result, for anyone concerned.
    @Test(arguments: TestDatabase.allCases)
    func invisibleContentNeverAppears(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let viewer = try await client.register(username: "seer")
            let blocked = try await client.register(username: "hidden_blocked")
            let blocker = try await client.register(username: "hidden_blocker")
            let suspended = try await client.register(username: "hidden_suspended")
            let visible = try await client.register(username: "hidden_visible")
            let blockedVideo = try await client.createVideo(blocked, title: "hidden video")
            let blockerVideo = try await client.createVideo(blocker, title: "hidden video")
            let suspendedVideo = try await client.createVideo(suspended, title: "hidden video")
            let deleted = try await client.createVideo(visible, title: "hidden video")
            let removed = try await client.createVideo(visible, title: "hidden video")
            let shown = try await client.createVideo(visible, title: "hidden video")
            try await client.block(blocked, by: viewer)
            try await client.block(viewer, by: blocker)
            try await db.setSuspended(suspended.id, true)
            #expect(try await client.delete("/v1/videos/\(deleted)", token: visible.accessToken).status == .noContent)
            try await db.setRemoved(removed, true)

            #expect(try await client.searchVideos("hidden", as: viewer) == [shown])
            #expect(Set(try await client.searchVideos("hidden")) == [blockedVideo, blockerVideo, shown])
            #expect(try await client.searchUsers("hidden", as: viewer) == [visible.id])
            #expect(try await client.searchUsers("hidden") == [blocked.id, blocker.id, visible.id])
            // The other side of each block sees nothing of the viewer either.
            let viewerVideo = try await client.createVideo(viewer, title: "hidden video")
            #expect(try await client.searchVideos("hidden", as: blocked).contains(viewerVideo) == false)
            #expect(try await client.searchVideos("hidden", as: blocker).contains(viewerVideo) == false)
            #expect(try await client.searchUsers("seer", as: blocker) == [])
            #expect(try await client.searchUsers("seer", as: visible) == [viewer.id])

            // Visibility comes back with its cause gone.
            try await db.setSuspended(suspended.id, false)
            try await db.setRemoved(removed, false)
            #expect(Set(try await client.searchVideos("hidden", as: viewer)) == [shown, removed, suspendedVideo, viewerVideo])
        }
    }

    /// Walks results with small pages while other tasks publish matching videos (some ranked above the walk's position,
    /// some below) and delete others. No video is shown twice, every video matching for the whole walk is shown.
    @Test(arguments: TestDatabase.allCases)
    func pagingIsStableUnderConcurrentInsertsAndDeletes(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            // Tiers 2 ("walk", "a walk"), 1 ("walker") and 0 (found by its description).
            let kinds: [(title: String, description: String?)] = [("walk", nil), ("walker", nil), ("other", "walks"), ("a walk", nil)]
            @Sendable func publish(_ index: Int, _ suffix: String) async throws -> String {
                let kind = kinds[index % kinds.count]
                return try await client.createVideo(owner, title: kind.title + suffix, description: kind.description)
            }
            var live: Set<String> = []
            for index in 0..<24 { live.insert(try await publish(index, "")) }
            for (round, limit) in [1, 3, 5].enumerated() {
                let doomed = Array(live.shuffled().prefix(live.count / 3))
                let stable = live.subtracting(doomed)
                let (seen, inserted) = try await withThrowingTaskGroup(of: ([String], Set<String>).self) { group in
                    group.addTask { (try await client.searchVideos("walk", limit: limit), []) }
                    group.addTask {
                        var inserted: Set<String> = []
                        for (index, id) in doomed.enumerated() {
                            inserted.insert(try await publish(index, " \(round)"))
                            await Task.yield()
                            #expect(try await client.delete("/v1/videos/\(id)", token: owner.accessToken).status == .noContent)
                        }
                        return ([], inserted)
                    }
                    var seen: [String] = []
                    var inserted: Set<String> = []
                    for try await (walked, added) in group {
                        seen += walked
                        inserted.formUnion(added)
                    }
                    return (seen, inserted)
                }
                #expect(seen.count == Set(seen).count, "round \(round): a video was shown twice")
                #expect(stable.isSubset(of: Set(seen)), "round \(round): skipped \(stable.subtracting(seen))")
                #expect(Set(seen).isSubset(of: live.union(inserted)), "round \(round): showed an unknown video")
                live = stable.union(inserted)
            }
            #expect(Set(try await client.searchVideos("walk", limit: 7)) == live)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func queriesAndCursorsAreChecked(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register(username: "pager")
            for _ in 0..<3 { try await client.createVideo(owner, title: "cursor test") }
            for path in ["/v1/search/videos", "/v1/search/users"] {
                for q in ["", "%20%20", Self.encoded(String(repeating: "가", count: 101)), Self.encoded(" \n\t ")] {
                    let problem = try await client.get("\(path)?q=\(q)").expectProblem(422, code: "validation_failed")
                    #expect(problem.errors?.first?.field == "q", "q=\(q)")
                }
                try await client.get(path).expectProblem(422, code: "validation_failed")
                #expect(try await client.get("\(path)?q=\(Self.encoded(" " + String(repeating: "가", count: 100) + " "))").status == .ok)
                try await client.get("\(path)?q=cursor&limit=0").expectProblem(422, code: "validation_failed")
                try await client.get("\(path)?q=cursor&cursor=garbage").expectProblem(422, code: "validation_failed")
            }
            let cursor = try #require(try await client.get("/v1/search/videos?q=cursor&limit=1").decode(API.VideoPage.self).nextCursor)
            #expect(try await client.get("/v1/search/videos?q=cursor&limit=1&cursor=\(cursor)").status == .ok)
            // The same words spelled otherwise are the same query; other words, or another list, are not.
            #expect(try await client.get("/v1/search/videos?q=CURSOR!&limit=1&cursor=\(cursor)").status == .ok)
            for other in ["/v1/search/videos?q=test", "/v1/search/videos?q=cursor%20test", "/v1/search/users?q=cursor", "/v1/videos?q=cursor"] {
                let problem = try await client.get("\(other)&cursor=\(cursor)").expectProblem(422, code: "validation_failed")
                #expect(problem.errors?.first?.field == "cursor")
            }
            let feedCursor = try #require(try await client.get("/v1/videos?limit=1").decode(API.VideoPage.self).nextCursor)
            try await client.get("/v1/search/videos?q=cursor&cursor=\(feedCursor)").expectProblem(422, code: "validation_failed")
            // A page of users, walked to its end: each page is one statement, below.
            for index in 0..<3 { _ = try await client.register(username: "pager_\(index)") }
            let walked = try await client.walk("/v1/search/users?q=pager", as: API.UserPage.self, limit: 2)
            #expect(walked.map(\.profile.username) == ["pager", "pager_0", "pager_1", "pager_2"])
            let userCursor = try #require(try await client.get("/v1/search/users?q=pager&limit=1").decode(API.UserPage.self).nextCursor)
            try await client.get("/v1/search/users?q=pager_&cursor=\(userCursor)").expectProblem(422, code: "validation_failed")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func onePageIsOneStatementWithViewerState(_ database: TestDatabase) async throws {
        let statements = StatementLog()
        try await TestApp.run(database, statements: statements) { client in
            let viewer = try await client.register(username: "state_viewer")
            let ann = try await client.register(username: "state_ann")
            let liked = try await client.createVideo(ann, title: "state clip one")
            let bookmarked = try await client.createVideo(ann, title: "state clip two")
            let own = try await client.createVideo(viewer, title: "state clip three")
            #expect(try await client.post("/v1/likes/videos/\(liked)", token: viewer.accessToken).status == .ok)
            try await client.bookmark(bookmarked, by: viewer)
            try await client.follow(ann, by: viewer)

            _ = statements.drain()
            let page = try await client.get("/v1/search/videos?q=state%20clip&limit=2", token: viewer.accessToken)
            #expect(statements.drainAuthenticated().count == 1)
            let body = try page.decode(API.VideoPage.self)
            #expect(body.videos.count == 2 && body.hasMore)
            #expect(try shape(of: page)["videos"].elements.allSatisfy { $0.keys == videoKeys.union(viewerKeys) })
            let cursor = try #require(body.nextCursor)
            let rest = try await client.get("/v1/search/videos?q=state%20clip&limit=2&cursor=\(cursor)", token: viewer.accessToken)
            #expect(statements.drainAuthenticated().count == 1)
            let all = body.videos + (try rest.decode(API.VideoPage.self).videos)
            let state = Dictionary(uniqueKeysWithValues: all.map { ($0.id, [$0.isLiked, $0.isFollowing, $0.isBookmarked]) })
            #expect(state == [liked: [true, true, false], bookmarked: [false, true, true], own: [false, false, false]])

            let anonymous = try await client.get("/v1/search/videos?q=state")
            #expect(statements.drain().count == 1)
            #expect(try shape(of: anonymous)["videos"].elements.allSatisfy { $0.keys == videoKeys })

            _ = try await client.get("/v1/search/users?q=state", token: viewer.accessToken)
            #expect(statements.drainAuthenticated().count == 1)
            _ = try await client.get("/v1/search/users?q=state")
            #expect(statements.drain().count == 1)
            // No word: an empty page and no statement at all.
            #expect(try await client.searchVideos("!!!") == [])
            #expect(statements.drain().isEmpty)
        }
    }

    /// Rows that existed before V012 are searchable once it runs: the migration fills their search text.
    @Test(arguments: TestDatabase.allCases)
    func migrationIndexesExistingRows(_ database: TestDatabase) async throws {
        try await TestApp.withFreshDatabase(database) { url in
            try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                let migrator = Migrator(database: db, logger: TestApp.logger)
                try await migrator.migrate(Migrator.all.filter { $0.version < Migration.search.version })
                let owner = UUID(), video = UUID()
                try await db.sql.raw(
                    """
                    INSERT INTO users (id, email, username, display_name, password_hash, created_at)
                    VALUES (\(bind: owner), 'old@example.com', 'old_timer', 'Vieux Château', 'x', \(db.dialect.now))
                    """
                ).run()
                try await db.sql.raw(
                    """
                    INSERT INTO videos (id, user_id, title, description, video_url, duration_seconds, created_at)
                    VALUES (\(bind: video), \(bind: owner), '옛날 영상', 'Élan vital', 'https://a.example/v', 5, \(db.dialect.now))
                    """
                ).run()
                try await migrator.migrate()
                let store = SQLSearchStore(database: db)
                for q in ["영상", "elan", "옛날 vital"] {
                    #expect(try await store.videos(matching: SearchQuery(q), after: nil, limit: 5, viewer: nil).items.map(\.id) == [video], "q=\(q)")
                }
                #expect(try await store.users(matching: SearchQuery("chateau"), after: nil, limit: 5, viewer: nil).items.map(\.user.id) == [owner])
                #expect(try await store.users(matching: SearchQuery("old_t"), after: nil, limit: 5, viewer: nil).items.map(\.user.id) == [owner])
            }
        }
    }

    static func encoded(_ q: String) -> String {
        q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
    }
}

extension TestClient {
    /// The ids of every video search finds for `q`, walked to the end, in order.
    func searchVideos(_ q: String, as viewer: User? = nil, limit: Int = 100) async throws -> [String] {
        try await self.walk("/v1/search/videos?q=\(SearchTests.encoded(q))", as: API.VideoPage.self, limit: limit, token: viewer?.accessToken)
            .map(\.id)
    }

    /// The ids of every user search finds for `q`, in order.
    func searchUsers(_ q: String, as viewer: User? = nil) async throws -> [String] {
        try await self.walk("/v1/search/users?q=\(SearchTests.encoded(q))", as: API.UserPage.self, limit: 100, token: viewer?.accessToken)
            .map(\.profile.id)
    }

    func rename(_ user: User, to displayName: String) async throws {
        let response = try await self.request(.patch, "/v1/users/me", token: user.accessToken, json: ["display_name": displayName])
        guard response.status == .ok else { throw TestSetupError("rename failed: \(response.status) \(response.text)") }
    }
}
