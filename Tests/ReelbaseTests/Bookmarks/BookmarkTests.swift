import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

@Suite("Bookmarks: idempotent add and remove, newest bookmark first, is_bookmarked in every video")
struct BookmarkTests {
    @Test(arguments: TestDatabase.allCases)
    func addAndRemoveAreIdempotentWithExactShapes(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            let me = try await client.register()
            let first = try await client.createVideo(owner)
            let second = try await client.createVideo(owner)

            let added = try await client.post("/v1/bookmarks/videos/\(first.uppercased())", token: me.accessToken)
            #expect(added.status == .ok)
            #expect(try keys(of: added) == ["video_id", "is_bookmarked"])
            #expect(try added.decode(API.BookmarkStatus.self) == API.BookmarkStatus(videoId: first, isBookmarked: true))
            try await client.bookmark(second, by: me)
            // A repeat keeps the first time: `first` stays behind `second`.
            try await client.bookmark(first, by: me)
            #expect(try await client.videoIDs("/v1/bookmarks", viewer: me) == [second, first])
            #expect(try await client.videoIDs("/v1/bookmarks/", viewer: me) == [second, first])
            #expect(try await client.videoIDs("/v1/bookmarks", viewer: owner) == [])

            let removed = try await client.delete("/v1/bookmarks/videos/\(second)", token: me.accessToken)
            #expect(try removed.decode(API.BookmarkStatus.self) == API.BookmarkStatus(videoId: second, isBookmarked: false))
            #expect(try await client.delete("/v1/bookmarks/videos/\(second)", token: me.accessToken).status == .ok)
            let unknown = UUID().uuidString.lowercased()
            #expect(try await client.delete("/v1/bookmarks/videos/\(unknown)", token: me.accessToken).decode(API.BookmarkStatus.self)
                == API.BookmarkStatus(videoId: unknown, isBookmarked: false))
            #expect(try await client.videoIDs("/v1/bookmarks", viewer: me) == [first])

            for id in [unknown, "nope"] {
                try await client.post("/v1/bookmarks/videos/\(id)", token: me.accessToken).expectProblem(404, code: "not_found")
            }
            try await client.post("/v1/bookmarks/videos/\(first)").expectProblem(401, code: "unauthorized")
            try await client.delete("/v1/bookmarks/videos/\(first)").expectProblem(401, code: "unauthorized")
            try await client.get("/v1/bookmarks").expectProblem(401, code: "unauthorized")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func isBookmarkedRidesInEveryVideoInThePagesOneStatement(_ database: TestDatabase) async throws {
        let statements = StatementLog()
        try await TestApp.run(database, statements: statements) { client in
            let owner = try await client.register()
            let me = try await client.register()
            let kept = try await client.createVideo(owner)
            let other = try await client.createVideo(owner)
            try await client.bookmark(kept, by: me)

            for path in ["/v1/videos/?limit=10", "/v1/users/\(owner.id)/videos?limit=10", "/v1/bookmarks?limit=10"] {
                _ = statements.drain()
                let response = try await client.get(path, token: me.accessToken)
                let sent = statements.drainAuthenticated()
                // A user's videos also looks the user up (a 404 for one the caller cannot see).
                #expect(sent.count == (path.hasPrefix("/v1/users") ? 2 : 1), "\(path): \(sent)")
                #expect(try shape(of: response)["videos"].elements.allSatisfy { $0.keys == videoKeys.union(viewerKeys) })
                let videos = try response.decode(API.VideoPage.self).videos
                #expect(videos.allSatisfy { $0.isBookmarked == ($0.id == kept) }, "\(path)")
            }
            let shown = try await client.get("/v1/videos/\(kept)", token: me.accessToken)
            #expect(try keys(of: shown) == videoKeys.union(viewerKeys))
            #expect(try shown.decode(API.Video.self).isBookmarked == true)
            #expect(try await client.get("/v1/videos/\(other)", token: me.accessToken).decode(API.Video.self).isBookmarked == false)
            // Anonymous callers get none of the three keys.
            #expect(try keys(of: try await client.get("/v1/videos/\(kept)")) == videoKeys)
            #expect(try shape(of: try await client.get("/v1/videos/"))["videos"].elements.allSatisfy { $0.keys == videoKeys })
            let created = try await client.post(
                "/v1/videos/", token: me.accessToken,
                json: TestClient.VideoBody(title: "Mine", video_url: "https://cdn.example.com/m.mp4", duration_seconds: 3))
            #expect(try created.decode(API.Video.self).isBookmarked == false)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func checkBatchAnswersVisibleBookmarksOnly(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let owner = try await client.register()
            let me = try await client.register()
            let kept = try await client.createVideo(owner)
            let notKept = try await client.createVideo(owner)
            let removed = try await client.createVideo(owner)
            let deleted = try await client.createVideo(owner)
            for video in [kept, removed, deleted] { try await client.bookmark(video, by: me) }
            try await db.setRemoved(removed, true)
            #expect(try await client.delete("/v1/videos/\(deleted)", token: owner.accessToken).status == .noContent)
            let unknown = UUID().uuidString.lowercased()

            let answer = try await client.batchCheck(
                "/v1/bookmarks/check-batch", "video_ids", [kept.uppercased(), notKept, removed, deleted, unknown, kept], by: me)
            #expect(answer == [kept: true, notKept: false, removed: false, deleted: false, unknown: false])
            #expect(try await client.batchCheck("/v1/bookmarks/check-batch", "video_ids", [kept], by: owner) == [kept: false])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func hiddenVideosKeepTheirBookmarksAndDeletedOnesLoseThem(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database) { client, db in
            let owner = try await client.register()
            let me = try await client.register()
            let removed = try await client.createVideo(owner)
            let suspendedOwners = try await client.createVideo(owner)
            let deleted = try await client.createVideo(owner)
            let other = try await client.register()
            let plain = try await client.createVideo(other)
            for video in [removed, suspendedOwners, deleted, plain] { try await client.bookmark(video, by: me) }

            try await db.setRemoved(removed, true)
            #expect(try await client.videoIDs("/v1/bookmarks", viewer: me) == [plain, deleted, suspendedOwners])
            try await client.post("/v1/bookmarks/videos/\(removed)", token: me.accessToken).expectProblem(404, code: "not_found")
            try await db.setRemoved(removed, false)
            #expect(try await client.videoIDs("/v1/bookmarks", viewer: me) == [plain, deleted, suspendedOwners, removed])

            try await db.setSuspended(owner.id, true)
            #expect(try await client.videoIDs("/v1/bookmarks", viewer: me) == [plain])
            try await db.setSuspended(owner.id, false)

            #expect(try await client.delete("/v1/videos/\(deleted)", token: owner.accessToken).status == .noContent)
            #expect(try await client.videoIDs("/v1/bookmarks", viewer: me) == [plain, suspendedOwners, removed])
            let condition = "video_id = '\(database == .sqlite ? deleted.uppercased() : deleted)'"
            #expect(try await db.count("bookmarks", where: condition) == 0)
            #expect(try await db.count("bookmarks") == 3)

            // Removing a bookmark works whatever became of the video.
            try await db.setRemoved(removed, true)
            #expect(try await client.delete("/v1/bookmarks/videos/\(removed)", token: me.accessToken).status == .ok)
            #expect(try await client.delete("/v1/bookmarks/videos/\(deleted)", token: me.accessToken).status == .ok)
            try await db.setRemoved(removed, false)
            #expect(try await client.videoIDs("/v1/bookmarks", viewer: me) == [plain, suspendedOwners])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func listOrderIsStableUnderConcurrentAddsAndRemoves(_ database: TestDatabase) async throws {
        try await TestApp.run(database, settings: ["database.pool.size": "16"]) { client in
            let owner = try await client.register()
            let me = try await client.register()
            var videos: [String] = []
            for _ in 0..<40 { videos.append(try await client.createVideo(owner)) }
            // Bookmarked in an order of their own, not the videos' creation order.
            let original = Array(videos[0..<24].shuffled())
            for video in original { try await client.bookmark(video, by: me) }
            var fresh = Array(videos[24...])
            var expected = Array(original.reversed())

            var listed: [String] = []
            var cursor = ""
            while true {
                // Before the page: one bookmark not shown yet goes away for good.
                let unseen = expected.dropFirst(listed.count + 4).first
                if let unseen {
                    #expect(try await client.delete("/v1/bookmarks/videos/\(unseen)", token: me.accessToken).status == .ok)
                    expected.removeAll { $0 == unseen }
                }
                // While the page is read: new bookmarks (newer than any position past the first page, which may show
                // them) and removals of ones already shown.
                let position = cursor
                let adds = position.isEmpty ? [] : Array(fresh.prefix(2))
                fresh.removeFirst(adds.count)
                let shown = listed.suffix(1)
                let page = try await withThrowingTaskGroup(of: API.VideoPage?.self) { group in
                    for video in adds { group.addTask { try await client.bookmark(video, by: me); return nil } }
                    for video in shown {
                        group.addTask { _ = try await client.delete("/v1/bookmarks/videos/\(video)", token: me.accessToken); return nil }
                    }
                    group.addTask {
                        try await client.get("/v1/bookmarks?limit=4&cursor=\(position)", token: me.accessToken).decode(API.VideoPage.self)
                    }
                    return try await group.reduce(into: [API.VideoPage]()) { if let page = $1 { $0.append(page) } }.first
                }
                let body = try #require(page)
                listed += body.videos.map(\.id)
                guard body.hasMore, let next = body.nextCursor else { break }
                #expect(body.videos.count == 4)
                cursor = next
            }
            // No duplicates, no skips: exactly the original bookmarks still there, newest bookmark first.
            #expect(listed == expected)
        }
    }
}
