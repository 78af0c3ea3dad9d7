import Configuration
import Foundation
import HummingbirdTesting
import SQLKit
import Testing

@testable import Reelbase

@Suite("seed-bench --layout peer")
struct PeerBenchLayoutTests {
    /// A hundredth of the harness's data set: 1000 users, 2000 videos, 10 viewers, 10,000 likes and follows, by the
    /// very formulas; each viewer still likes and follows 100 and has its 30 ledger rows.
    static let scale = 100

    @Test func idsAreWhatPostgreSQLsMD5Gives() throws {
        // `SELECT md5('u1')::uuid, md5('v1')::uuid, md5('u1000')::uuid` (the PostgreSQL test below asks the server too).
        #expect(PeerBenchLayout.id("u", 1) == UUID(uuidString: "e4774cdd-a079-3f86-414e-8b9140bb6db4"))
        #expect(PeerBenchLayout.id("v", 1) == UUID(uuidString: "6654c734-ccab-8f44-0ff0-825eb443dc7f"))
        #expect(PeerBenchLayout.id("u", 1000) == UUID(uuidString: "ccf127b3-11ac-9af9-db28-609b13608a04"))
    }

    @Test func everyScaleThatDividesTheViewersKeepsTheFormulasSound() throws {
        for scale in 1...500 where 1000 % scale == 0 {
            let layout = try PeerBenchLayout(scale: scale)
            let rows = (0..<layout.users).reduce(0) { $0 + layout.rows(ofUser: $1, total: layout.likes).count }
            #expect(rows == layout.likes, "scale \(scale)")
            for u0 in [0, layout.viewers - 1, layout.viewers, layout.users - 1] {
                let ks = layout.rows(ofUser: u0, total: layout.follows).map(\.k)
                #expect(Set(ks.map { layout.likedVideo(ofUser: u0, k: $0) }).count == ks.count, "scale \(scale)")
                let followed = ks.map { layout.followedUser(ofUser: u0, k: $0) }
                #expect(Set(followed).count == ks.count && !followed.contains(u0 + 1), "scale \(scale)")
            }
        }
        #expect(throws: BenchDataset.InvalidSize.self) { try PeerBenchLayout(scale: 3) }
        #expect(throws: BenchDataset.InvalidSize.self) { try PeerBenchLayout(scale: 1000) }
        #expect(throws: BenchDataset.InvalidSize.self) { try PeerBenchLayout(scale: 0) }
    }

    @Test func theHarnessFindsTheLayoutInTheHelp() {
        // run_one.sh greps `seed-bench --help` for `--layout` before it calls `--layout peer`.
        let help = ReelbaseCommand.helpMessage(for: SeedBenchCommand.self, columns: 10_000)
        #expect(help.contains("--layout <layout>"))
        #expect(!help.contains("--peer-scale"))
    }

    @Test(arguments: TestDatabase.allCases)
    func loadsThePeerDataSetThroughTheProjectsCode(_ database: TestDatabase) async throws {
        let layout = try PeerBenchLayout(scale: Self.scale)
        try await TestApp.withFreshDatabase(database) { url in
            // As run_one.sh calls it, on an empty database the command migrates itself.
            let command = try SeedBenchCommand.parse(["--layout", "peer", "--peer-scale", "\(Self.scale)", "--database-url", url])
            let configuration = try AppConfiguration(
                reader: command.commandLine.reader(environment: EnvironmentVariablesProvider(environmentVariables: [:])))
            try await command.run(configuration: configuration, logger: TestApp.logger)

            try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: TestApp.logger) { db in
                #expect(try await db.count("users") == 1000)
                #expect(try await db.count("videos") == 2000)
                #expect(try await db.count("likes") == 10_000)
                #expect(try await db.count("follows") == 10_000)
                #expect(try await db.rowsWhoseCountersDisagree() == 0)
                #expect(try await db.count("users", where: "video_count <> 2") == 0)

                let ids = try await db.sql.raw("SELECT id FROM users").all(decodingColumn: "id", as: UUID.self)
                #expect(Set(ids) == Set((1...1000).map(layout.userID)))
                if database == .postgres {
                    let md5 = try await db.sql.raw("SELECT md5('u1')::uuid AS u, md5('v7')::uuid AS v").first()
                    #expect(try md5?.decode(column: "u", as: UUID.self) == layout.userID(1))
                    #expect(try md5?.decode(column: "v", as: UUID.self) == layout.videoID(7))
                }
                let user1 = try #require(try await db.sql.raw("SELECT * FROM users WHERE id = \(bind: layout.userID(1))").first())
                #expect(try user1.decode(column: "email", as: String.self) == "user1@example.com")
                #expect(try user1.decode(column: "username", as: String.self) == "user1")
                #expect(try user1.decode(column: "display_name", as: String.self) == "User 1")
                #expect(try user1.decode(column: "search_name", as: String.self) == "user 1")
                #expect(try user1.decode(column: "created_at", as: Date.self) == (try Date("2024-06-01T00:01:00Z", strategy: .iso8601)))
                let video3 = try #require(try await db.sql.raw("SELECT * FROM videos WHERE id = \(bind: layout.videoID(3))").first())
                // Video j0 = 2: owner (2 × 48271) % 1000 + 1, created (2 / 2) minutes after 2025-01-01.
                #expect(try video3.decode(column: "user_id", as: UUID.self) == layout.userID(2 * 48271 % 1000 + 1))
                #expect(try video3.decode(column: "title", as: String.self) == "Video 3")
                #expect(try video3.decode(column: "video_url", as: String.self) == "https://cdn.example.com/v3.mp4")
                #expect(try video3.decode(column: "created_at", as: Date.self) == (try Date("2025-01-01T00:01:00Z", strategy: .iso8601)))

                // Viewer 1 (u0 = 0) likes videos (k × 7919) % 2000 + 1 and follows users (1 + k × 7919) % 1000 + 1.
                let liked = try await db.sql.raw("SELECT video_id FROM likes WHERE user_id = \(bind: layout.userID(1))")
                    .all(decodingColumn: "video_id", as: UUID.self)
                #expect(liked.count == 100 && Set(liked) == Set((0..<100).map { layout.videoID($0 * 7919 % 2000 + 1) }))
                let followed = try await db.sql.raw("SELECT following_id FROM follows WHERE follower_id = \(bind: layout.userID(1))")
                    .all(decodingColumn: "following_id", as: UUID.self)
                #expect(followed.count == 100 && Set(followed) == Set((0..<100).map { layout.userID((1 + $0 * 7919) % 1000 + 1) }))
                // The others share the rest: 9000 rows over 990 users, 9 or 10 each.
                #expect(try await db.count("users", where: "following_count NOT IN (9, 10) AND following_count <> 100") == 0)

                // The ledger: 1000 signup bonuses and 29 rows more for each of the 10 viewers, dated before 2025-07-01
                // (run_one.sh counts later purchase rows as the benchmark's own).
                #expect(try await db.count("credit_transactions") == 1000 + 10 * 29)
                let july = try Self.sqlInstant("2025-07-01T00:00:00Z", db)
                #expect(try await db.count("credit_transactions", where: "created_at >= \(july)") == 0)
                #expect(try await db.count("users", where: "credits <> (SELECT SUM(credits) FROM credit_transactions t WHERE t.user_id = users.id)") == 0)
                #expect(try await db.count("users", where: "credits = \(PeerBenchLayout.viewerBalance)") == 10)
                #expect(try await db.count("users", where: "credits = 100 AND ledger_sequence = 1") == 990)
            }

            let app = try await buildApplication(configuration: try TestApp.configuration(databaseURL: url, settings: [:]), logger: TestApp.logger)
            try await app.test(.router) { router in
                let client = TestClient(client: router, databaseURL: url)
                let login = try await client.post("/v1/auth/login", json: ["email": "user1@example.com", "password": BenchDataset.password])
                #expect(login.status == .ok, "\(login.text)")
                let auth = try login.decode(API.Auth.self)
                #expect(auth.user.id == layout.userID(1).lowercased)
                #expect(auth.user.followingCount == 100)
                let viewer = TestClient.User(
                    id: auth.user.id, email: "user1@example.com", username: "user1", password: BenchDataset.password,
                    accessToken: auth.accessToken, refreshToken: auth.refreshToken)
                #expect(try await client.balance(viewer) == API.Balance(balance: 2870, totalEarned: 3100, totalSpent: 230))
                let history = try await client.history(viewer)
                #expect(history.total == 30 && history.transactions.first?.description == "Purchased Basic Pack (500 credits)")

                let likes = try await client.post(
                    "/v1/likes/check-batch", token: viewer.accessToken,
                    json: ["video_ids": (0..<100).map { layout.videoID($0 * 7919 % 2000 + 1).lowercased }])
                #expect(try likes.decode(API.LikedVideos.self).likedVideos.values.filter { $0 }.count == 100)

                try await client.expectCleanAudit()
            }
        }
    }

    /// An instant literal as the database stores one (REAL seconds on SQLite).
    private static func sqlInstant(_ iso: String, _ db: Reelbase.Database) throws -> String {
        let date = try Date(iso, strategy: .iso8601)
        return db.dialect == .postgres ? "timestamptz '\(iso)'" : "\(date.timeIntervalSince1970)"
    }
}
