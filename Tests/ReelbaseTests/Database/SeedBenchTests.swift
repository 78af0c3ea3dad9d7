import Foundation
import SQLKit
import Testing

@testable import Reelbase

@Suite("seed-bench")
struct SeedBenchTests {
    /// Small enough for a test, with sizes that do not divide evenly and transactions far smaller than a table,
    /// so uneven shares and the batching are exercised.
    static let dataset: BenchDataset = {
        do {
            return try BenchDataset(users: 23, videos: 41, likes: 157, follows: 131, seed: 7, notifiedUsers: 3)
        } catch {
            preconditionFailure("test data set is invalid: \(error)")
        }
    }()

    @Test(arguments: TestDatabase.allCases)
    func loadsExactRowsAndCounters(_ database: TestDatabase) async throws {
        let dataset = Self.dataset
        try await TestApp.withFreshDatabase(database) { url in
            try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                try await Migrator(database: db, logger: TestApp.logger).migrate()
                var seeder = BenchSeeder(layout: dataset, database: db, logger: TestApp.logger)
                seeder.rowsPerTransaction = 10
                try await seeder.load()

                func count(_ sql: SQLQueryString) async throws -> Int? {
                    try await db.sql.raw(sql).first()?.decode(column: "n", as: Int.self)
                }
                #expect(try await count("SELECT COUNT(*) AS n FROM users") == 23)
                #expect(try await count("SELECT COUNT(*) AS n FROM videos") == 41)
                #expect(try await count("SELECT COUNT(*) AS n FROM likes") == 157)
                #expect(try await count("SELECT COUNT(*) AS n FROM follows") == 131)
                #expect(try await count("SELECT COUNT(*) AS n FROM follows WHERE follower_id = following_id") == 0)
                #expect(try await count("SELECT CAST(SUM(like_count) AS BIGINT) AS n FROM videos") == 157)
                #expect(try await count("SELECT CAST(SUM(follower_count) AS BIGINT) AS n FROM users") == 131)
                #expect(try await count("SELECT CAST(SUM(following_count) AS BIGINT) AS n FROM users") == 131)
                #expect(try await count("SELECT CAST(SUM(video_count) AS BIGINT) AS n FROM users") == 41)
                #expect(try await db.rowsWhoseCountersDisagree() == 0)

                // The first three users' notifications, one per like of their videos (a self-like's none) and per follow.
                let notifications = dataset.notifications().joined()
                let selfLikes = notifications.filter { $0.actorID == $0.recipientID }.count
                #expect(!notifications.isEmpty && notifications.map(\.recipientID).allSatisfy(Set((0..<3).map(dataset.userID)).contains))
                #expect(try await count("SELECT COUNT(*) AS n FROM notifications") == notifications.count - selfLikes)
                #expect(
                    try await count(
                        """
                        SELECT COUNT(*) AS n FROM notifications n JOIN videos v ON v.id = n.video_id
                        JOIN likes l ON l.video_id = n.video_id AND l.user_id = n.actor_id
                        WHERE n.type = 'like' AND n.recipient_id = v.user_id
                        """) == notifications.filter { $0.kind == .like }.count - selfLikes)
                #expect(
                    try await count(
                        """
                        SELECT COUNT(*) AS n FROM notifications n
                        JOIN follows f ON f.follower_id = n.actor_id AND f.following_id = n.recipient_id WHERE n.type = 'follow'
                        """) == notifications.filter { $0.kind == .follow }.count)
                #expect(try await count("SELECT COUNT(*) AS n FROM events WHERE type = 'notification'") == notifications.count - selfLikes)

                // The rows are the data set's: a benchmark can name a user's likes without asking the database.
                let userIDs = try await db.sql.raw("SELECT id FROM users").all().map { try $0.decode(column: "id", as: UUID.self) }
                #expect(Set(userIDs) == Set((0..<23).map(dataset.userID)))
                let liked = try await db.sql.raw("SELECT video_id FROM likes WHERE user_id = \(bind: dataset.userID(5))").all()
                    .map { try $0.decode(column: "video_id", as: UUID.self) }
                #expect(Set(liked) == Set(dataset.likedVideos(ofUser: 5).map(dataset.videoID)))

                // A second load is refused rather than doubling the data set.
                await #expect(throws: (any Error).self) { try await seeder.load() }
            }
        }
    }

    @Test func theSeedDecidesTheIDs() throws {
        let again = try BenchDataset(users: 23, videos: 41, likes: 157, follows: 131, seed: 7)
        let other = try BenchDataset(users: 23, videos: 41, likes: 157, follows: 131, seed: 8)
        #expect((0..<23).map(again.userID) == (0..<23).map(Self.dataset.userID))
        #expect((0..<41).map(again.videoID) == (0..<41).map(Self.dataset.videoID))
        #expect(Set((0..<23).map(other.userID)).isDisjoint(with: (0..<23).map(Self.dataset.userID)))
    }

    @Test func theKnownPasswordMatchesTheStoredHash() async throws {
        #expect(try await PasswordHasher(cost: 4).verify(BenchDataset.password, hash: BenchDataset.passwordHash))
    }

    @Test func refusesImpossibleSizes() {
        #expect(throws: BenchDataset.InvalidSize.self) { try BenchDataset(users: 3, videos: 2, likes: 7, follows: 0, seed: 1) }
        #expect(throws: BenchDataset.InvalidSize.self) { try BenchDataset(users: 3, videos: 2, likes: 0, follows: 7, seed: 1) }
        #expect(throws: BenchDataset.InvalidSize.self) { try BenchDataset(users: 0, videos: 2, likes: 0, follows: 0, seed: 1) }
    }
}

extension Reelbase.Database {
    /// Videos and users whose counters are not what their rows count (seed-bench sets them from the rows).
    func rowsWhoseCountersDisagree() async throws -> Int {
        let videos = try await self.count("videos", where: "like_count <> (SELECT COUNT(*) FROM likes WHERE video_id = videos.id)")
        let users = try await self.count(
            "users",
            where: """
                follower_count <> (SELECT COUNT(*) FROM follows WHERE following_id = users.id)
                OR following_count <> (SELECT COUNT(*) FROM follows WHERE follower_id = users.id)
                OR video_count <> (SELECT COUNT(*) FROM videos WHERE user_id = users.id)
                """)
        return videos + users
    }
}
