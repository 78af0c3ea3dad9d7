import Foundation
import Testing

@testable import Reelbase

@Suite("Videos: publish, read, delete")
struct VideoTests {
    @Test(arguments: TestDatabase.allCases)
    func createShowAndDeleteWithExactKeys(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            let other = try await client.register()
            let created = try await client.request(
                .post, "/v1/videos/", token: owner.accessToken,
                rawBody: #"{"title":"Sunset","description":"At the beach","video_url":"https://cdn.example.com/s.mp4","thumbnail_url":"https://cdn.example.com/s.jpg","duration_seconds":42}"#
            )
            #expect(created.status == .created)
            #expect(try keys(of: created) == videoKeys.union(viewerKeys))
            let video = try created.decode(API.Video.self)
            let id = video.id
            #expect(id == id.lowercased() && UUID(uuidString: id) != nil)
            #expect(video.title == "Sunset")
            #expect(video.description == "At the beach")
            #expect(video.videoUrl == "https://cdn.example.com/s.mp4")
            #expect(video.thumbnailUrl == "https://cdn.example.com/s.jpg")
            #expect(video.durationSeconds == 42)
            #expect(video.likeCount == 0)
            #expect(video.createdAt.hasSuffix("Z"))
            #expect(video.isLiked == false && video.isFollowing == false)
            #expect(try shape(of: created)["user"].keys == userKeys)
            #expect(video.user.id == owner.id)
            #expect(video.user.videoCount == 1)

            let anonymous = try await client.get("/v1/videos/\(id.uppercased())")
            #expect(anonymous.status == .ok)
            #expect(try keys(of: anonymous) == videoKeys)
            let signedIn = try await client.get("/v1/videos/\(id)", token: other.accessToken)
            #expect(try keys(of: signedIn) == videoKeys.union(viewerKeys))

            try await client.delete("/v1/videos/\(id)").expectProblem(401, code: "unauthorized")
            try await client.delete("/v1/videos/\(id)", token: other.accessToken).expectProblem(403, code: "forbidden")
            let deleted = try await client.delete("/v1/videos/\(id)", token: owner.accessToken)
            #expect(deleted.status == .noContent)
            #expect(deleted.body.isEmpty)

            // A deleted video is no video anywhere.
            try await client.get("/v1/videos/\(id)").expectProblem(404, code: "not_found")
            try await client.delete("/v1/videos/\(id)", token: owner.accessToken).expectProblem(404, code: "not_found")
            try await client.post("/v1/likes/videos/\(id)", token: other.accessToken).expectProblem(404, code: "not_found")
            #expect(try await client.get("/v1/users/\(owner.id)").decode(API.Profile.self).videoCount == 0)
            #expect(try await client.get("/v1/videos").decode(API.VideoPage.self).videos.isEmpty)
            #expect(try await client.get("/v1/users/\(owner.id)/videos").decode(API.VideoPage.self).videos.isEmpty)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func optionalFieldsAreExplicitNulls(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            let id = try await client.createVideo(owner)
            let response = try await client.get("/v1/videos/\(id)")
            // Present, and null.
            #expect(try keys(of: response) == videoKeys)
            let video = try response.decode(API.Video.self)
            #expect(video.description == nil)
            #expect(video.thumbnailUrl == nil)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func createValidatesEveryField(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            let long = String(repeating: "x", count: 5001)
            let bad = try await client.request(
                .post, "/v1/videos", token: owner.accessToken,
                rawBody: #"{"title":"  ","description":"\#(long)","video_url":"ftp://cdn.example.com/a","thumbnail_url":"nope","duration_seconds":3601}"#
            )
            let problem = try bad.expectProblem(422, code: "validation_failed")
            let fields = try #require(problem.errors).map(\.field)
            #expect(fields == ["title", "description", "video_url", "thumbnail_url", "duration_seconds"])

            let missing = try await client.request(.post, "/v1/videos/", token: owner.accessToken, rawBody: "{}")
            let missingFields = try #require(try missing.expectProblem(422, code: "validation_failed").errors)
            #expect(missingFields.map(\.field) == ["title", "video_url", "duration_seconds"])

            let longTitle = String(repeating: "t", count: 201)
            for body in [
                #"{"title":"\#(longTitle)","video_url":"https://a.example/v","duration_seconds":5}"#,
                #"{"title":"ok","video_url":"https://a.example/v","duration_seconds":0}"#,
                #"{"title":"ok","video_url":"https://a.example/v","duration_seconds":"ten"}"#,
                #"{"title":"ok","video_url":"https://a.example/v","duration_seconds":12.5}"#,
                #"{"title":"ok","video_url":"https://a.example/v","duration_seconds":99999999999999999999999}"#,
                #"{"title":5,"video_url":"https://a.example/v","duration_seconds":5}"#,
                "[]",
            ] {
                try await client.request(.post, "/v1/videos/", token: owner.accessToken, rawBody: body)
                    .expectProblem(422, code: "validation_failed")
            }
            try await client.request(.post, "/v1/videos/", token: owner.accessToken, rawBody: "{nope").expectProblem(400, code: "invalid_json")
            try await client.request(.post, "/v1/videos/", rawBody: "{}").expectProblem(401, code: "unauthorized")
            // Nothing was written by any of them.
            #expect(try await client.get("/v1/users/\(owner.id)").decode(API.Profile.self).videoCount == 0)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func unknownOrMalformedIDsAre404(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            try await client.get("/v1/videos/not-a-uuid").expectProblem(404, code: "not_found")
            try await client.get("/v1/videos/\(UUID().uuidString)").expectProblem(404, code: "not_found")
            try await client.delete("/v1/videos/\(UUID().uuidString)", token: owner.accessToken).expectProblem(404, code: "not_found")
            try await client.get("/v1/users/\(UUID().uuidString)/videos").expectProblem(404, code: "not_found")
            try await client.get("/v1/users/nope/videos").expectProblem(404, code: "not_found")
        }
    }
}

@Suite("Feeds: newest first, keyset cursors, viewer state")
struct FeedTests {
    @Test(arguments: TestDatabase.allCases)
    func feedPagesNewestFirstOnBothSlashForms(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            var ids: [String] = []
            for index in 0..<5 { ids.append(try await client.createVideo(owner, title: "v\(index)")) }

            for path in ["/v1/videos", "/v1/videos/"] {
                let first = try await client.get("\(path)?limit=2&cursor=")
                #expect(first.status == .ok)
                #expect(try keys(of: first) == ["videos", "next_cursor", "has_more"])
                let body = try first.decode(API.VideoPage.self)
                #expect(body.hasMore == true)
                #expect(body.videos.map(\.id) == [ids[4], ids[3]])
                #expect(try shape(of: first)["videos"].elements.allSatisfy { $0.keys == videoKeys })
                let walked = try await client.walk(path, as: API.VideoPage.self, limit: 2)
                #expect(walked.map(\.id) == ids.reversed())
            }
            let all = try await client.get("/v1/videos")
            #expect(try all.decode(API.VideoPage.self).videos.count == 5)
            #expect(try all.decode(API.VideoPage.self).hasMore == false)
            #expect(try keys(of: all).contains("next_cursor"))
            #expect(try all.decode(API.VideoPage.self).nextCursor == nil)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func userVideosListOnlyThatUser(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let ann = try await client.register()
            let bob = try await client.register()
            var annIDs: [String] = []
            for index in 0..<3 {
                annIDs.append(try await client.createVideo(ann, title: "ann\(index)"))
                try await client.createVideo(bob, title: "bob\(index)")
            }
            let walked = try await client.walk("/v1/users/\(ann.id.uppercased())/videos", as: API.VideoPage.self, limit: 2)
            #expect(walked.map(\.id) == annIDs.reversed())

            // A cursor belongs to its list: one from the global feed is refused by a user's list.
            let feedCursor = try #require(try await client.get("/v1/videos?limit=1").decode(API.VideoPage.self).nextCursor)
            try await client.get("/v1/users/\(ann.id)/videos?cursor=\(feedCursor)").expectProblem(422, code: "validation_failed")
            let annCursor = try #require(try await client.get("/v1/users/\(ann.id)/videos?limit=1").decode(API.VideoPage.self).nextCursor)
            try await client.get("/v1/users/\(bob.id)/videos?cursor=\(annCursor)").expectProblem(422, code: "validation_failed")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func badLimitsAndCursorsAre422(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            for _ in 0..<3 { try await client.createVideo(owner) }
            for path in ["/v1/videos", "/v1/users/\(owner.id)/videos", "/v1/users/\(owner.id)/followers", "/v1/users/\(owner.id)/following"] {
                for limit in ["0", "101", "abc", "-1", "", "1.5", "99999999999999999999"] {
                    let problem = try await client.get("\(path)?limit=\(limit)").expectProblem(422, code: "validation_failed")
                    #expect(problem.errors?.first?.field == "limit")
                }
                for cursor in ["garbage", "!!!", "AAAA", String(repeating: "A", count: 300), "%00%ff"] {
                    let problem = try await client.get("\(path)?cursor=\(cursor)").expectProblem(422, code: "validation_failed")
                    #expect(problem.errors?.first?.field == "cursor")
                }
                #expect(try await client.get("\(path)?limit=1").status == .ok)
                #expect(try await client.get("\(path)?limit=100&cursor=").status == .ok)
            }

            let cursor = try #require(try await client.get("/v1/videos?limit=1").decode(API.VideoPage.self).nextCursor)
            #expect(try await client.get("/v1/videos?limit=1&cursor=\(cursor)").status == .ok)
            // Every single-character change of a valid cursor is refused, none answers 500.
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            for index in stride(from: 0, to: cursor.count, by: 7) {
                var characters = Array(cursor)
                characters[index] = alphabet.first { $0 != characters[index] } ?? "A"
                try await client.get("/v1/videos?cursor=\(String(characters))").expectProblem(422, code: "validation_failed")
            }
            try await client.get("/v1/videos?cursor=\(cursor.dropLast(2))").expectProblem(422, code: "validation_failed")
            try await client.get("/v1/videos?cursor=\(cursor)AA").expectProblem(422, code: "validation_failed")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func viewerStateIsPerVideoAndOneStatementPerPage(_ database: TestDatabase) async throws {
        let statements = StatementLog()
        try await TestApp.run(database, statements: statements) { client in
            let ann = try await client.register()
            let cal = try await client.register()
            let viewer = try await client.register()
            let annLiked = try await client.createVideo(ann)
            let annOther = try await client.createVideo(ann)
            let calLiked = try await client.createVideo(cal)
            let calOther = try await client.createVideo(cal)
            let own = try await client.createVideo(viewer)
            for id in [annLiked, calLiked] {
                #expect(try await client.post("/v1/likes/videos/\(id)", token: viewer.accessToken).status == .ok)
            }
            #expect(try await client.post("/v1/follows/\(ann.id)", token: viewer.accessToken).status == .ok)

            let expected: [String: (liked: Bool, following: Bool)] = [
                annLiked: (true, true), annOther: (false, true), calLiked: (true, false), calOther: (false, false), own: (false, false),
            ]
            _ = statements.drain()
            let page = try await client.get("/v1/videos?limit=5", token: viewer.accessToken)
            #expect(statements.drainAuthenticated().count == 1)
            let videos = try page.decode(API.VideoPage.self).videos
            #expect(videos.count == 5)
            #expect(try shape(of: page)["videos"].elements.allSatisfy { $0.keys == videoKeys.union(viewerKeys) })
            for video in videos {
                let state = try #require(expected[video.id])
                #expect(video.isLiked == state.liked)
                #expect(video.isFollowing == state.following)
            }

            let single = try await client.get("/v1/videos/\(annLiked)", token: viewer.accessToken).decode(API.Video.self)
            #expect(single.isLiked == true && single.isFollowing == true)
            let calsVideos = try await client.get("/v1/users/\(cal.id)/videos", token: viewer.accessToken).decode(API.VideoPage.self).videos
            #expect(calsVideos.map(\.isLiked) == [false, true])
            #expect(calsVideos.allSatisfy { $0.isFollowing == false })

            let anonymousPage = try await client.get("/v1/videos")
            let anonymous = try anonymousPage.decode(API.VideoPage.self).videos
            #expect(anonymous.count == 5)
            #expect(try shape(of: anonymousPage)["videos"].elements.allSatisfy { $0.keys == videoKeys })
            try await client.get("/v1/videos", token: "not-a-token").expectProblem(401, code: "unauthorized")
        }
    }

    /// Walks the feed with small pages while other tasks publish and delete videos. Property: no video is shown
    /// twice, every video live for the whole walk is shown, and nothing shown was never live.
    @Test(arguments: TestDatabase.allCases)
    func pagingIsStableUnderConcurrentInsertsAndDeletes(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owners = [try await client.register(), try await client.register()]
            // Video id → the owner who may delete it.
            var live: [String: TestClient.User] = [:]
            for index in 0..<24 {
                live[try await client.createVideo(owners[index % 2], title: "seed\(index)")] = owners[index % 2]
            }

            for (round, limit) in [1, 3, 7, 4].enumerated() {
                let doomed = Array(live.shuffled().prefix(live.count / 3))
                let stable = Set(live.keys).subtracting(doomed.map(\.key))
                let (seen, inserted) = try await withThrowingTaskGroup(of: ([String], [String: TestClient.User]).self) { group in
                    group.addTask {
                        let items = try await client.walk("/v1/videos/", as: API.VideoPage.self, limit: limit)
                        return (items.map(\.id), [:])
                    }
                    group.addTask {
                        var inserted: [String: TestClient.User] = [:]
                        for (index, (id, owner)) in doomed.enumerated() {
                            let author = owners[index % 2]
                            inserted[try await client.createVideo(author, title: "round\(round)-\(index)")] = author
                            await Task.yield()
                            let deleted = try await client.delete("/v1/videos/\(id)", token: owner.accessToken)
                            #expect(deleted.status == .noContent)
                        }
                        return ([], inserted)
                    }
                    var seen: [String] = []
                    var inserted: [String: TestClient.User] = [:]
                    for try await (walked, added) in group {
                        seen += walked
                        inserted.merge(added) { $1 }
                    }
                    return (seen, inserted)
                }
                #expect(seen.count == Set(seen).count, "round \(round): a video was shown twice")
                #expect(stable.isSubset(of: Set(seen)), "round \(round): skipped \(stable.subtracting(seen))")
                #expect(Set(seen).isSubset(of: Set(live.keys).union(inserted.keys)), "round \(round): showed an unknown video")
                live = live.filter { stable.contains($0.key) }.merging(inserted) { $1 }
            }
            let final = try await client.walk("/v1/videos", as: API.VideoPage.self, limit: 5)
            #expect(Set(final.map(\.id)) == Set(live.keys))
        }
    }
}

@Suite("Feed keyset on the store: ties on created_at")
struct FeedKeysetTests {
    /// Rows sharing one `created_at` are ordered by id; a page boundary between them must skip none of them.
    /// The cursor goes through its string form, as a client would carry it.
    @Test(arguments: TestDatabase.allCases)
    func videosSharingAnInstantPageWithoutSkips(_ database: TestDatabase) async throws {
        try await TestApp.withFreshDatabase(database) { url in
            try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                try await Migrator(database: db, logger: TestApp.logger).migrate()
                let owner = UUID()
                try await db.sql.raw(
                    """
                    INSERT INTO users (id, email, username, display_name, password_hash, created_at, referral_code)
                    VALUES (\(bind: owner), 'tie@example.com', 'tie', 'Tie', 'x', \(bind: Date()), 'TIETIE22')
                    """
                ).run()
                // Microsecond-precise instants that do not survive a round trip through `Date` bit for bit.
                let instants = [Date(timeIntervalSince1970: 1_761_741_000.123457), Date(timeIntervalSince1970: 1_761_741_001.654321)]
                var ids: [UUID] = []
                for index in 0..<12 {
                    let id = UUID()
                    ids.append(id)
                    try await db.sql.raw(
                        """
                        INSERT INTO videos (id, user_id, title, video_url, duration_seconds, created_at)
                        VALUES (\(bind: id), \(bind: owner), 'tie', 'https://a.example/v', 5, \(bind: instants[index % 2]))
                        """
                    ).run()
                }
                let store = SQLVideoStore(database: db)
                let codec = FeedCursor.Codec(secret: "test-secret-that-is-long-enough-for-hs256")
                for limit in 1...5 {
                    var seen: [UUID] = []
                    var after: FeedCursor?
                    repeat {
                        let page = try await store.page(ownerID: nil, after: after, limit: limit, viewer: nil)
                        seen += page.items.map(\.id)
                        after = try page.next.map { try #require(codec.decode(codec.encode($0, list: "videos"), list: "videos")) }
                    } while after != nil
                    #expect(seen.count == 12 && Set(seen) == Set(ids), "limit \(limit)")
                }
            }
        }
    }
}
