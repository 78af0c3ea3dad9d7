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
            #expect(try keys(of: liked) == ["is_liked", "like_count", "video_id"])
            #expect(try liked.decode(API.LikeStatus.self) == API.LikeStatus(videoId: video, isLiked: true, likeCount: 1))
            let again = try await client.post("/v1/likes/videos/\(video)", token: fan.accessToken)
            #expect(try again.decode(API.LikeStatus.self).likeCount == 1)

            let check = try await client.get("/v1/likes/videos/\(video)/check", token: fan.accessToken)
            #expect(check.status == .ok)
            #expect(try keys(of: check) == ["is_liked", "video_id"])
            #expect(try check.decode(API.LikeCheck.self).isLiked == true)
            #expect(try await client.get("/v1/likes/videos/\(video)/check", token: owner.accessToken).decode(API.LikeCheck.self).isLiked == false)
            #expect(try await client.get("/v1/videos/\(video)").decode(API.Video.self).likeCount == 1)

            let unliked = try await client.delete("/v1/likes/videos/\(video)", token: fan.accessToken)
            #expect(unliked.status == .ok)
            #expect(try unliked.decode(API.LikeStatus.self).isLiked == false)
            #expect(try unliked.decode(API.LikeStatus.self).likeCount == 0)
            let unlikedAgain = try await client.delete("/v1/likes/videos/\(video)", token: fan.accessToken)
            #expect(try unlikedAgain.decode(API.LikeStatus.self).likeCount == 0)
            #expect(try await client.get("/v1/likes/videos/\(video)/check", token: fan.accessToken).decode(API.LikeCheck.self).isLiked == false)
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
                try await client.delete("/v1/likes/videos/\(id)", token: fan.accessToken).expectProblem(404, code: "not_found")
                try await client.get("/v1/likes/videos/\(id)/check", token: fan.accessToken).expectProblem(404, code: "not_found")
            }
            #expect(try await client.delete("/v1/videos/\(video)", token: owner.accessToken).status == .noContent)
            try await client.post("/v1/likes/videos/\(video)", token: fan.accessToken).expectProblem(404, code: "not_found")
            try await client.delete("/v1/likes/videos/\(video)", token: fan.accessToken).expectProblem(404, code: "not_found")
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
            #expect(try await client.get("/v1/videos/\(video)").decode(API.Video.self).likeCount == fans.count)

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
            #expect(try await client.get("/v1/videos/\(video)").decode(API.Video.self).likeCount == fans.count / 2)
        }
    }
}
