import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

@Suite("Likes: idempotent like and unlike, exact counts")
struct LikeTests {
    @Test(arguments: TestDatabase.allCases)
    func likeAndUnlikeAreIdempotentWithExactShapes(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            let fan = try await client.register()
            let video = try await client.createVideo(owner)

            let liked = try await client.post("/v1/likes/videos/\(video.uppercased())", token: fan.accessToken)
            #expect(liked.status == .ok)
            #expect(try liked.json.keys.sorted() == ["is_liked", "like_count", "video_id"])
            #expect(try liked.json["video_id"] as? String == video)
            #expect(try liked.json["is_liked"] as? Bool == true)
            #expect(try liked.json["like_count"] as? Int == 1)
            let again = try await client.post("/v1/likes/videos/\(video)", token: fan.accessToken)
            #expect(try again.json["like_count"] as? Int == 1)

            let check = try await client.get("/v1/likes/videos/\(video)/check", token: fan.accessToken)
            #expect(check.status == .ok)
            #expect(try check.json.keys.sorted() == ["is_liked", "video_id"])
            #expect(try check.json["is_liked"] as? Bool == true)
            #expect(try await client.get("/v1/likes/videos/\(video)/check", token: owner.accessToken).json["is_liked"] as? Bool == false)
            #expect(try await client.get("/v1/videos/\(video)").json["like_count"] as? Int == 1)

            let unliked = try await client.request(.delete, "/v1/likes/videos/\(video)", token: fan.accessToken)
            #expect(unliked.status == .ok)
            #expect(try unliked.json["is_liked"] as? Bool == false)
            #expect(try unliked.json["like_count"] as? Int == 0)
            let unlikedAgain = try await client.request(.delete, "/v1/likes/videos/\(video)", token: fan.accessToken)
            #expect(try unlikedAgain.json["like_count"] as? Int == 0)
            #expect(try await client.get("/v1/likes/videos/\(video)/check", token: fan.accessToken).json["is_liked"] as? Bool == false)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func unknownDeletedOrMalformedVideosAre404AndAnonymousIs401(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            let fan = try await client.register()
            let video = try await client.createVideo(owner)
            #expect(try await client.post("/v1/likes/videos/\(video)", token: fan.accessToken).status == .ok)
            try await client.post("/v1/likes/videos/\(video)").expectProblem(401, code: "unauthorized")
            try await client.get("/v1/likes/videos/\(video)/check").expectProblem(401, code: "unauthorized")
            for id in [UUID().uuidString, "not-a-uuid"] {
                try await client.post("/v1/likes/videos/\(id)", token: fan.accessToken).expectProblem(404, code: "not_found")
                try await client.request(.delete, "/v1/likes/videos/\(id)", token: fan.accessToken).expectProblem(404, code: "not_found")
                try await client.get("/v1/likes/videos/\(id)/check", token: fan.accessToken).expectProblem(404, code: "not_found")
            }
            #expect(try await client.delete("/v1/videos/\(video)", token: owner.accessToken).status == .noContent)
            try await client.post("/v1/likes/videos/\(video)", token: fan.accessToken).expectProblem(404, code: "not_found")
            try await client.request(.delete, "/v1/likes/videos/\(video)", token: fan.accessToken).expectProblem(404, code: "not_found")
            try await client.get("/v1/likes/videos/\(video)/check", token: fan.accessToken).expectProblem(404, code: "not_found")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func concurrentLikesCountExactly(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let owner = try await client.register()
            let video = try await client.createVideo(owner)
            var fans: [TestClient.User] = []
            for _ in 0..<24 { fans.append(try await client.register()) }

            // Every fan likes twice at once: 48 concurrent requests, 24 likes.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for fan in fans + fans {
                    group.addTask {
                        let response = try await client.post("/v1/likes/videos/\(video)", token: fan.accessToken)
                        #expect(response.status == .ok, "\(response.text)")
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await client.get("/v1/videos/\(video)").json["like_count"] as? Int == fans.count)

            // Half unlike while the other half like again: only the unlikes count.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, fan) in fans.enumerated() {
                    group.addTask {
                        let method: HTTPRequest.Method = index % 2 == 0 ? .delete : .post
                        let response = try await client.request(method, "/v1/likes/videos/\(video)", token: fan.accessToken)
                        #expect(response.status == .ok)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await client.get("/v1/videos/\(video)").json["like_count"] as? Int == fans.count / 2)
        }
    }
}
