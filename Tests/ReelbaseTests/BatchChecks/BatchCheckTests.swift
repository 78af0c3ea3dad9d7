import Foundation
import Testing

@testable import Reelbase

@Suite("Batch checks (likes, follows, blocks, bookmarks): exact answers, one statement per request")
struct BatchCheckTests {
    @Test(arguments: TestDatabase.allCases)
    func likesBatchAnswersMixedIdsInOneStatement(_ database: TestDatabase) async throws {
        let statements = StatementLog()
        try await TestApp.run(database, statements: statements) { client in
            let owner = try await client.register()
            let fan = try await client.register()
            let liked = try await client.createVideo(owner)
            let notLiked = try await client.createVideo(owner)
            let likedThenDeleted = try await client.createVideo(owner)
            for id in [liked, likedThenDeleted] {
                #expect(try await client.post("/v1/likes/videos/\(id)", token: fan.accessToken).status == .ok)
            }
            #expect(try await client.delete("/v1/videos/\(likedThenDeleted)", token: owner.accessToken).status == .noContent)
            let unknown = UUID().uuidString.lowercased()

            _ = statements.drain()
            let response = try await client.post(
                "/v1/likes/check-batch", token: fan.accessToken,
                json: ["video_ids": [liked.uppercased(), notLiked, unknown, liked, likedThenDeleted, notLiked.uppercased()]])
            let sent = statements.drainAuthenticated()
            #expect(sent.count == 1, "\(sent)")
            #expect(sent.first?.contains("likes") == true)
            #expect(response.status == .ok)
            #expect(try keys(of: response) == ["liked_videos"])
            let answer = try response.decode(API.LikedVideos.self).likedVideos
            #expect(answer == [liked: true, notLiked: false, unknown: false, likedThenDeleted: false])

            #expect(try await client.delete("/v1/likes/videos/\(liked)", token: fan.accessToken).status == .ok)
            let flipped = try await client.post("/v1/likes/check-batch", token: fan.accessToken, json: ["video_ids": [liked]])
            #expect(try flipped.decode(API.LikedVideos.self).likedVideos == [liked: false])

            // Another user's likes are not mine.
            let mine = try await client.post("/v1/likes/check-batch", token: owner.accessToken, json: ["video_ids": [liked, notLiked]])
            #expect(try mine.decode(API.LikedVideos.self).likedVideos == [liked: false, notLiked: false])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func followsBatchAnswersMixedIdsInOneStatement(_ database: TestDatabase) async throws {
        let statements = StatementLog()
        try await TestApp.run(database, statements: statements) { client in
            let me = try await client.register()
            let followed = try await client.register()
            let notFollowed = try await client.register()
            let followsMe = try await client.register()
            #expect(try await client.post("/v1/follows/\(followed.id)", token: me.accessToken).status == .ok)
            #expect(try await client.post("/v1/follows/\(me.id)", token: followsMe.accessToken).status == .ok)
            let unknown = UUID().uuidString.lowercased()

            _ = statements.drain()
            let response = try await client.post(
                "/v1/follows/check-batch", token: me.accessToken,
                json: ["user_ids": [followed.id, notFollowed.id.uppercased(), followsMe.id, unknown, me.id, followed.id.uppercased()]])
            let sent = statements.drainAuthenticated()
            #expect(sent.count == 1, "\(sent)")
            #expect(sent.first?.contains("follows") == true)
            #expect(response.status == .ok)
            #expect(try keys(of: response) == ["following_users"])
            #expect(
                try response.decode(API.FollowingUsers.self).followingUsers == [
                    followed.id: true, notFollowed.id: false, followsMe.id: false, unknown: false, me.id: false,
                ])

            #expect(try await client.delete("/v1/follows/\(followed.id)", token: me.accessToken).status == .ok)
            let flipped = try await client.post("/v1/follows/check-batch", token: me.accessToken, json: ["user_ids": [followed.id]])
            #expect(try flipped.decode(API.FollowingUsers.self).followingUsers == [followed.id: false])
        }
    }

    /// The four batch checks: path, the request's list, the answer's map.
    static let checks = [
        ("/v1/likes/check-batch", "video_ids", "liked_videos"),
        ("/v1/follows/check-batch", "user_ids", "following_users"),
        ("/v1/blocks/check-batch", "user_ids", "blocked_users"),
        ("/v1/bookmarks/check-batch", "video_ids", "bookmarked_videos"),
    ]

    @Test(arguments: TestDatabase.allCases)
    func oneStatementWhateverTheNumberOfIds(_ database: TestDatabase) async throws {
        let statements = StatementLog()
        try await TestApp.run(database, statements: statements) { client in
            let me = try await client.register()
            let other = try await client.register()
            let video = try await client.createVideo(other)
            // One id of each list is `true`, so the statement's result is read, not only sent.
            #expect(try await client.post("/v1/likes/videos/\(video)", token: me.accessToken).status == .ok)
            try await client.bookmark(video, by: me)
            try await client.follow(other, by: me)
            let blocked = try await client.register()
            try await client.block(blocked, by: me)
            let trueID = ["video_ids": video, "user_ids": other.id]
            for count in [1, 37, 100] {
                for (path, key, answerKey) in Self.checks {
                    let match = key == "user_ids" && path.contains("blocks") ? blocked.id : trueID[key]!
                    let ids = [match.uppercased()] + (1..<count).map { _ in UUID().uuidString }
                    _ = statements.drain()
                    let response = try await client.post(path, token: me.accessToken, json: [key: ids])
                    #expect(response.status == .ok)
                    #expect(statements.drainAuthenticated().count == 1, "\(path) with \(count) ids")
                    #expect(try keys(of: response) == [answerKey])
                    let answer = try #require(try response.decode([String: [String: Bool]].self)[answerKey])
                    #expect(answer.count == count, "\(path): every id answered once")
                    #expect(Set(answer.keys) == Set(ids.map { $0.lowercased() }))
                    #expect(answer.filter(\.value).keys.sorted() == [match], "\(path) with \(count) ids")
                }
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func badBatchesAre4xxProblemsNamingTheField(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let me = try await client.register()
            let valid = UUID().uuidString
            for (path, key, _) in Self.checks {
                try await client.post(path, json: [key: [valid]]).expectProblem(401, code: "unauthorized")

                let empty = try await client.post(path, token: me.accessToken, json: [key: [String]()])
                #expect(try empty.expectProblem(422, code: "validation_failed").errors == [
                    API.FieldError(field: key, message: "Must hold 1 to 100 ids.")
                ])
                // 101 ids, even if they are one id repeated: the limit counts ids as sent.
                let tooMany = try await client.post(path, token: me.accessToken, json: [key: Array(repeating: valid, count: 101)])
                let tooManyErrors = try #require(try tooMany.expectProblem(422, code: "validation_failed").errors)
                #expect(tooManyErrors.map(\.field) == [key])

                // Foundation on Linux reads the last three as UUIDs (sscanf skips a space, takes a sign or 0x in a byte).
                let sloppy = ["1b4e28ba-2fa1-11d2-883f-0016d3cca4 7", "1b4e28ba-2fa1-11d2-883f-0016d3cca4-7", "0x4e28ba-2fa1-11d2-883f-0016d3cca427"]
                let bad = try await client.post(path, token: me.accessToken, json: [key: [valid, "nope", valid, "", "\(valid)x"] + sloppy])
                let badErrors = try #require(try bad.expectProblem(422, code: "validation_failed").errors)
                #expect(badErrors.map(\.field) == ["\(key)[1]", "\(key)[3]", "\(key)[4]", "\(key)[5]", "\(key)[6]", "\(key)[7]"])

                for body in [#"{"\#(key)":[1,2]}"#, #"{"\#(key)":"\#(valid)"}"#, #"{"\#(key)":null}"#, "{}", #"{"\#(key)":[null]}"#] {
                    try await client.request(.post, path, token: me.accessToken, rawBody: body).expectProblem(422, code: "validation_failed")
                }
                let numbers = try await client.request(.post, path, token: me.accessToken, rawBody: #"{"\#(key)":["\#(valid)",7]}"#)
                #expect(try numbers.expectProblem(422, code: "validation_failed").errors?.first?.field == "\(key)[1]")
                try await client.request(.post, path, token: me.accessToken, rawBody: "{not json").expectProblem(400, code: "invalid_json")
                try await client.request(.post, path, token: me.accessToken, rawBody: "").expectProblem(400, code: "invalid_json")
                try await client.request(.post, path, token: me.accessToken, rawBody: "x", headers: [.contentType: "text/plain"])
                    .expectProblem(415, code: "unsupported_media_type")
            }
        }
    }
}
