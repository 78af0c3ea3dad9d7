import Crypto
import Foundation
import Logging

/// `seed-bench --layout peer`: the data set of `../shared/peer-bench` (its README, `sql/gen_reelbase.sql`) row for row
/// in Reelbase's current schema, so that the side-by-side harness loads Reelbase with the project's own loader.
///
/// Every id, owner, like and follow is the harness's formula, its `r`, `u0`, `j0` and `k` included: user `i` (from 1)
/// is `md5('u' || i)::uuid`, video `j` `md5('v' || j)::uuid`. The first ``viewers`` users are the harness's sample
/// viewers: 100 likes and 100 follows each, and 29 ledger rows after their signup bonus.
struct PeerBenchLayout: Sendable {
    /// A full load, measured with the release build on PostgreSQL 15 here (README, "Benchmark").
    static let measuredLoad = "152 s (108 s of it the ledger)"

    /// Likes and follows of each viewer; the other users share the rest, 9 or 10 each.
    static let viewerShare = 100
    /// Ledger rows of each viewer: the signup bonus, then a purchase every 5th row and a usage otherwise.
    static let viewerLedgerRows = 30

    /// `scale` divides every count (tests load a hundredth); 1 is the harness's data set.
    let scale: Int
    let users: Int
    let videos: Int
    let viewers: Int
    let likes: Int
    let follows: Int

    init(scale: Int = 1) throws {
        // 1000 viewers must divide evenly; beyond 500 a viewer could not follow 100 other users.
        guard scale > 0, scale <= 500, 1000 % scale == 0 else {
            throw BenchDataset.InvalidSize(description: "--peer-scale must be a divisor of 1000 up to 500")
        }
        self.scale = scale
        self.users = 100_000 / scale
        self.videos = 200_000 / scale
        self.viewers = 1000 / scale
        self.likes = 1_000_000 / scale
        self.follows = 1_000_000 / scale
        // The formulas give distinct likes and follows and no self-follow at every such scale; this says so should
        // the constants change.
        let users = self.users
        guard (0..<Self.viewerShare).allSatisfy({ k in (1 + k * 7919) % users != 0 }) else {
            throw BenchDataset.InvalidSize(description: "--peer-scale \(scale) would make users follow themselves")
        }
    }

    /// `md5(kind || n)::uuid`: PostgreSQL reads the digest's 32 hex digits as the UUID's 16 bytes, in order.
    static func id(_ kind: String, _ n: Int) -> UUID {
        Insecure.MD5.hash(data: Data("\(kind)\(n)".utf8)).withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }
    }

    func userID(_ i: Int) -> UUID { Self.id("u", i) }
    func videoID(_ j: Int) -> UUID { Self.id("v", j) }
    static func email(_ i: Int) -> String { "user\(i)@example.com" }

    /// The owner of video `j`: two videos each.
    func owner(ofVideo j: Int) -> Int { (j - 1) * 48271 % self.users + 1 }

    /// The like (or follow) rows of user `u0` (from 0): `r`, the row's number over the whole table, which dates it,
    /// and `k`, the user's own count. Rows below `viewers × 100` are the viewers' (`u0 = r / 100`); the rest go round
    /// the other users (`u0 = viewers + (r - viewers × 100) % others`).
    func rows(ofUser u0: Int, total: Int) -> [(r: Int, k: Int)] {
        if u0 < self.viewers {
            return (0..<Self.viewerShare).map { k in (u0 * Self.viewerShare + k, k) }
        }
        let others = self.users - self.viewers
        return stride(from: self.viewers * Self.viewerShare + u0 - self.viewers, to: total, by: others).enumerated().map { ($1, $0) }
    }

    /// Video (from 1) of user `u0`'s `k`th like.
    func likedVideo(ofUser u0: Int, k: Int) -> Int { (u0 * 104729 + k * 7919) % self.videos + 1 }

    /// User (from 1) of user `u0`'s `k`th follow; never `u0 + 1` itself.
    func followedUser(ofUser u0: Int, k: Int) -> Int { (u0 + 1 + k * 7919) % self.users + 1 }

    /// 2024-06-01, 2025-01-01, 2025-03-15 and 2025-06-01, midnight UTC: where users, videos, likes and follows, and
    /// ledger rows are dated from.
    static let usersFrom = Date(timeIntervalSince1970: 1_717_200_000)
    static let videosFrom = Date(timeIntervalSince1970: 1_735_689_600)
    static let socialFrom = Date(timeIntervalSince1970: 1_741_996_800)
    static let ledgerFrom = Date(timeIntervalSince1970: 1_748_736_000)

    /// User `i`'s ledger, as `gen_reelbase.sql` writes it: row `n` dated `i` seconds and `n` hours after ``ledgerFrom``.
    func ledger(ofUser i: Int) -> [CreditLedger.Movement] {
        (1...(i <= self.viewers ? Self.viewerLedgerRows : 1)).map { n in
            var movement: CreditLedger.Movement
            if n == 1 {
                movement = .init(userID: self.userID(i), type: .bonus, credits: 100, description: "Signup bonus")
            } else if n % 5 == 0 {
                movement = .init(
                    userID: self.userID(i), type: .purchase, credits: 500, description: "Purchased Basic Pack (500 credits)",
                    extraData: ["package_id": "basic_500", "payment_method": "card", "mock": "true"])
            } else {
                movement = .init(
                    userID: self.userID(i), type: .usage, credits: -10, description: "AI Glitch: Animate (10 credits)",
                    extraData: ["effect_id": "glitch_animate"])
            }
            movement.recordedAt = Self.ledgerFrom.addingTimeInterval(Double(i) + Double(n) * 3600)
            return movement
        }
    }

    /// A viewer's balance after their ledger: 100 + 6 × 500 − 23 × 10.
    static let viewerBalance = 2870
}

extension PeerBenchLayout: BenchLayout {
    /// User `u0 + 1`.
    func user(_ u0: Int) -> BenchUser {
        let i = u0 + 1
        return BenchUser(
            id: self.userID(i), email: Self.email(i), username: "user\(i)", displayName: "User \(i)",
            createdAt: Self.usersFrom.addingTimeInterval(Double(i) * 60))
    }

    /// Video `j0 + 1`; videos are created in pairs a minute apart.
    func video(_ j0: Int) -> BenchVideo {
        let j = j0 + 1
        return BenchVideo(
            id: self.videoID(j), ownerID: self.userID(self.owner(ofVideo: j)), title: "Video \(j)", description: nil,
            url: "https://cdn.example.com/v\(j).mp4", durationSeconds: 15, createdAt: Self.videosFrom.addingTimeInterval(Double(j0 / 2) * 60))
    }

    func likeRows(ofUser u0: Int) -> [BenchMark] {
        self.rows(ofUser: u0, total: self.likes).map { row in
            BenchMark(
                userID: self.userID(u0 + 1), targetID: self.videoID(self.likedVideo(ofUser: u0, k: row.k)),
                createdAt: Self.socialFrom.addingTimeInterval(Double(row.r)))
        }
    }

    func followRows(ofUser u0: Int) -> [BenchMark] {
        self.rows(ofUser: u0, total: self.follows).map { row in
            BenchMark(
                userID: self.userID(u0 + 1), targetID: self.userID(self.followedUser(ofUser: u0, k: row.k)),
                createdAt: Self.socialFrom.addingTimeInterval(Double(row.r)))
        }
    }

    /// The ledger through ``CreditLedger/apply(_:on:)``, which keeps balances, sequences, lots and draws as the
    /// server does; a transaction takes whole users, so parallel ones never wait on each other.
    func writeThroughProjectCode(with seeder: BenchSeeder) async throws {
        let ledger = CreditLedger(dialect: seeder.database.dialect)
        let rowCount = self.users + self.viewers * (Self.viewerLedgerRows - 1)
        try await seeder.inParallel("credit_transactions", units: self.users, rowCount: rowCount, unitsPerTransaction: 500) { range in
            let movements = range.flatMap { u0 in self.ledger(ofUser: u0 + 1) }
            try await seeder.database.transaction { connection in
                for movement in movements {
                    _ = try await ledger.apply(movement, on: connection)
                }
            }
            return movements.count
        }
    }

    var summary: Logger.Metadata {
        [
            "layout": "peer", "scale": "\(self.scale)", "users": "\(self.users)", "videos": "\(self.videos)", "likes": "\(self.likes)",
            "follows": "\(self.follows)", "viewers": "\(self.viewers)",
            "login": "\(Self.email(1)) / \(BenchDataset.password)",
        ]
    }
}
