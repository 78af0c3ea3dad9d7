import ArgumentParser
import Foundation
import Logging
import SQLKit

/// `reelbase seed-bench`: fills an empty database with a large, deterministic data set for load benchmarks.
struct SeedBenchCommand: AsyncParsableCommand, SettingsCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-bench",
        abstract: "Load a deterministic benchmark data set (users, videos, likes, follows) into an empty database.",
        discussion: """
            Applies migrations first and refuses a database that already has users.

            --layout default (scripts/bench): --users, --videos, --likes and --follows from --seed; the same --seed \
            gives the same ids and rows. Every user is bench<N>@example.com (username bench_<N>) with the password \
            '\(BenchDataset.password)'. The first --notified-users get a notification for each like of their videos \
            and each follow of them, written as the server writes them.

            --layout peer (../shared/peer-bench): exactly that harness's data set, by its formulas: 100,000 users \
            user<i>@example.com (password '\(BenchDataset.password)'), 200,000 videos, 1,000,000 likes, 1,000,000 \
            follows; every user a 100-credit signup bonus and each of the 1000 viewers 29 more ledger rows, written \
            through the credit ledger. The sizing options do not apply. About \(PeerBenchLayout.measuredLoad) on \
            PostgreSQL here.
            """
    )

    static let acceptedSettings = AppConfiguration.settings(for: [\.databaseURL, \.logLevel])

    /// The data sets `--layout` names.
    enum Layout: String, ExpressibleByArgument, CaseIterable, Sendable {
        case `default`, peer
    }

    @OptionGroup var commandLine: SettingArguments<SeedBenchCommand>

    @Option(help: "The data set: default (sized by the options below) or peer (../shared/peer-bench's, fixed).")
    var layout: Layout = .default

    @Option(help: "Number of users.")
    var users: Int = 100_000

    @Option(help: "Number of videos, each owned by a pseudo-random user.")
    var videos: Int = 200_000

    @Option(help: "Number of likes, spread evenly over the users.")
    var likes: Int = 1_000_000

    @Option(help: "Number of follows, spread evenly over the users.")
    var follows: Int = 1_000_000

    @Option(help: "Seed of every id and of the like and follow patterns.")
    var seed: UInt64 = 42

    @Option(help: "How many users, the first ones, get their likes' and follows' notifications (scripts/bench logs in 32).")
    var notifiedUsers: Int = 32

    /// Tests load the peer layout at a fraction of its size.
    @Option(help: ArgumentHelp("Divides the peer layout's counts, keeping its formulas (a divisor of 1000).", visibility: .hidden))
    var peerScale: Int = 1

    func validate() throws {
        _ = try self.dataLayout()
    }

    func dataLayout() throws -> any BenchLayout {
        do {
            switch self.layout {
            case .default:
                return try BenchDataset(
                    users: self.users, videos: self.videos, likes: self.likes, follows: self.follows, seed: self.seed,
                    notifiedUsers: self.notifiedUsers)
            case .peer:
                return try PeerBenchLayout(scale: self.peerScale)
            }
        } catch let error as BenchDataset.InvalidSize {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let configuration = try loadConfiguration(self.commandLine.reader())
        try await self.run(configuration: configuration, logger: bootstrapLogging(level: configuration.logLevel))
    }

    /// The command's work once its configuration is read (tests pass theirs, and their logger).
    func run(configuration: AppConfiguration, logger: Logger) async throws {
        let layout = try self.dataLayout()
        try await DatabaseConnector.withDatabase(configuration.databaseURL, logger: logger) { database in
            try await Migrator(database: database, logger: logger).migrate()
            try await BenchSeeder(layout: layout, database: database, logger: logger).load()
        }
    }
}

/// The benchmark data set, as pure functions of its sizes and seed: nothing is random at load time, so two loads
/// with the same parameters write the same rows, and a benchmark can name a user's likes without asking the database.
struct BenchDataset: Sendable {
    static let password = "reelbase-bench"
    /// bcrypt (cost 10) of ``password``, computed once: hashing 100,000 passwords would take hours, and a fixed
    /// hash keeps the rows identical from one load to the next (bcrypt salts at random).
    static let passwordHash = "$2b$10$KOd8P6qltFahIfVTcOwa5.RccXyAgQj6NxVRama./zdatq6EWxWn."
    /// 2025-01-01T00:00:00Z: users are created one second apart before it, videos one second apart after it.
    static let epoch: TimeInterval = 1_735_689_600

    struct InvalidSize: Error, CustomStringConvertible {
        var description: String
    }

    let users: Int
    let videos: Int
    let likes: Int
    let follows: Int
    let seed: UInt64

    /// User `u` likes videos `(u * likeStart + j * likeStep) % videos` for `j` below its share: distinct for each
    /// `j` because `likeStep` is coprime to `videos`. Follows do the same over the `users - 1` other users.
    private let likeStart: Int
    private let likeStep: Int
    private let followStart: Int
    private let followStep: Int

    /// Users `0..<notifiedUsers` (all of them when there are fewer) get a notification for each like of their videos
    /// and each follow of them.
    let notifiedUsers: Int

    init(users: Int, videos: Int, likes: Int, follows: Int, seed: UInt64, notifiedUsers: Int = 0) throws {
        // Ten million keeps every product below (u * start) within Int64.
        let limit = 10_000_000
        guard (0...limit).contains(users), (0...limit).contains(videos) else {
            throw InvalidSize(description: "--users and --videos must be in 0...\(limit)")
        }
        guard videos == 0 || users > 0 else { throw InvalidSize(description: "videos need at least one user to own them") }
        guard likes >= 0, likes <= users * videos else {
            throw InvalidSize(description: "--likes must be in 0...\(users * videos) (each user likes a video at most once)")
        }
        guard follows >= 0, follows <= users * max(users - 1, 0) else {
            throw InvalidSize(description: "--follows must be in 0...\(users * max(users - 1, 0)) (no self-follows, no duplicates)")
        }
        guard notifiedUsers >= 0 else { throw InvalidSize(description: "--notified-users must be 0 or more") }
        self.users = users
        self.notifiedUsers = min(notifiedUsers, users)
        self.videos = videos
        self.likes = likes
        self.follows = follows
        self.seed = seed
        self.likeStart = Self.residue(Self.mix(seed ^ 0x6c69_6b65), modulo: videos)
        self.likeStep = Self.coprime(near: Self.golden(videos), to: videos)
        self.followStart = Self.residue(Self.mix(seed ^ 0x666f_6c6c), modulo: users - 1)
        self.followStep = Self.coprime(near: Self.golden(users - 1), to: users - 1)
    }

    func userID(_ u: Int) -> UUID { self.uuid(kind: 1, index: u) }
    func videoID(_ v: Int) -> UUID { self.uuid(kind: 2, index: v) }
    static func email(_ u: Int) -> String { "bench\(u)@example.com" }

    /// A video's title: 2 to 5 words, the first capitalised.
    func title(ofVideo v: Int) -> String {
        var words = self.words(ofVideo: v, part: 0x7469_746c, count: 2...5)
        if let first = words.first { words[0] = first.prefix(1).uppercased() + first.dropFirst() }
        return words.joined(separator: " ")
    }

    /// A video's description: 6 to 16 words.
    func description(ofVideo v: Int) -> String {
        self.words(ofVideo: v, part: 0x6465_7363, count: 6...16).joined(separator: " ")
    }

    /// Words of ``BenchWords``, a third of them Korean; an index drawn as the square of a uniform number makes the
    /// first words of each list far more frequent than the last, so queries find anything from a few videos to
    /// thousands, as in life.
    private func words(ofVideo v: Int, part: UInt64, count: ClosedRange<Int>) -> [String] {
        var state = Self.mix(self.seed ^ part ^ UInt64(v) << 24)
        func next() -> UInt64 {
            state = Self.mix(state)
            return state
        }
        let n = count.lowerBound + Int(next() % UInt64(count.count))
        return (0..<n).map { _ in
            let list = next() % 3 == 0 ? BenchWords.korean : BenchWords.english
            let uniform = Double(next() >> 11) / Double(UInt64(1) << 53)
            return String(list[min(Int(Double(list.count) * uniform * uniform), list.count - 1)])
        }
    }

    /// Owners are spread pseudo-randomly, so `video_count` varies from user to user as it would in life.
    func owner(ofVideo v: Int) -> Int { Self.residue(Self.mix(self.seed ^ 0x6f77_6e72 ^ UInt64(v) << 20), modulo: self.users) }

    func likedVideos(ofUser u: Int) -> [Int] {
        (0..<Self.share(self.likes, of: u, among: self.users)).map { j in (u * self.likeStart + j * self.likeStep) % self.videos }
    }

    func followedUsers(ofUser u: Int) -> [Int] {
        let others = self.users - 1
        return (0..<Self.share(self.follows, of: u, among: self.users)).map { j in
            (u + 1 + (u * self.followStart + j * self.followStep) % others) % self.users
        }
    }

    /// `total` split as evenly as possible: the first `total % count` users get one more.
    private static func share(_ total: Int, of u: Int, among count: Int) -> Int {
        total / count + (u < total % count ? 1 : 0)
    }

    /// A version-4-shaped UUID from the seed, the kind of row and its index (SplitMix64's finaliser).
    private func uuid(kind: UInt64, index: Int) -> UUID {
        let high = Self.mix(self.seed &* 0x9E37_79B9_7F4A_7C15 ^ kind << 56 ^ UInt64(index))
        let low = Self.mix(high ^ 0xD1B5_4A32_D192_ED03)
        let versioned = (high & ~0xF000) | 0x4000
        let variant = (low & ~(0xC0 << 56)) | (0x80 << 56)
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { raw in
            raw.storeBytes(of: versioned.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: variant.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return UUID(uuid: bytes)
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static func residue(_ value: UInt64, modulo m: Int) -> Int { m > 0 ? Int(value % UInt64(m)) : 0 }

    /// About 0.618 × m: a step that scatters consecutive likes across the whole range instead of clustering them.
    private static func golden(_ m: Int) -> Int { Int(Double(max(m, 0)) * 0.618_033_988_75) }

    private static func coprime(near start: Int, to m: Int) -> Int {
        guard m > 1 else { return 1 }
        var step = max(start % m, 1)
        while gcd(step, m) != 1 { step = step % (m - 1) + 1 }
        return step
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}

extension BenchDataset: BenchLayout {
    func user(_ u: Int) -> BenchUser {
        BenchUser(
            id: self.userID(u), email: Self.email(u), username: "bench_\(u)", displayName: "Bench User \(u)",
            createdAt: Date(timeIntervalSince1970: BenchDataset.epoch - Double(self.users - u)))
    }

    func video(_ v: Int) -> BenchVideo {
        BenchVideo(
            id: self.videoID(v), ownerID: self.userID(self.owner(ofVideo: v)), title: self.title(ofVideo: v),
            description: self.description(ofVideo: v), url: "https://cdn.example.com/bench/\(v).mp4", durationSeconds: 5 + v % 56,
            createdAt: Date(timeIntervalSince1970: BenchDataset.epoch + Double(v)))
    }

    func likeRows(ofUser u: Int) -> [BenchMark] {
        let at = Date(timeIntervalSince1970: BenchDataset.epoch + Double(self.videos + u))
        return self.likedVideos(ofUser: u).map { BenchMark(userID: self.userID(u), targetID: self.videoID($0), createdAt: at) }
    }

    func followRows(ofUser u: Int) -> [BenchMark] {
        let at = Date(timeIntervalSince1970: BenchDataset.epoch + Double(self.videos + u))
        return self.followedUsers(ofUser: u).map { BenchMark(userID: self.userID(u), targetID: self.userID($0), createdAt: at) }
    }

    /// The notifications of each of the first ``notifiedUsers``: a `like` for each like of their videos, a `follow`
    /// for each follow of them, likers and followers in order.
    func notifications() -> [[NewNotification]] {
        var notifications = [[NewNotification]](repeating: [], count: self.notifiedUsers)
        guard self.notifiedUsers > 0 else { return notifications }
        for u in 0..<self.users {
            let actor = self.userID(u)
            for v in self.likedVideos(ofUser: u) {
                let owner = self.owner(ofVideo: v)
                guard owner < self.notifiedUsers else { continue }
                notifications[owner].append(NewNotification(recipientID: self.userID(owner), kind: .like, actorID: actor, videoID: self.videoID(v)))
            }
            for f in self.followedUsers(ofUser: u) where f < self.notifiedUsers {
                notifications[f].append(NewNotification(recipientID: self.userID(f), kind: .follow, actorID: actor))
            }
        }
        return notifications
    }

    /// Through ``NotificationWriter``, as a like or follow writes them (its rules drop a self-like's). A transaction
    /// takes whole recipients, so that parallel ones never wait on each other's event sequences.
    func writeThroughProjectCode(with seeder: BenchSeeder) async throws {
        let notifications = self.notifications()
        let writer = NotificationWriter(dialect: seeder.database.dialect)
        try await seeder.inParallel(
            "notifications", units: notifications.count, rowCount: notifications.joined().count, unitsPerTransaction: 8
        ) { recipients in
            try await seeder.database.transaction { connection in
                for notification in notifications[recipients].joined() {
                    try await writer.write(notification, on: connection)
                }
            }
            return notifications[recipients].joined().count
        }
    }

    var summary: Logger.Metadata {
        [
            "layout": "default", "users": "\(self.users)", "videos": "\(self.videos)", "likes": "\(self.likes)",
            "follows": "\(self.follows)", "seed": "\(self.seed)", "notified_users": "\(self.notifiedUsers)",
            "login": "\(BenchDataset.email(0)) / \(BenchDataset.password)",
        ]
    }
}

/// A data set ``BenchSeeder`` writes: rows it inserts in bulk, then what only the project's own code writes right.
/// Users and videos are numbered from 0 (a layout numbers its own from there); likes and follows come by user.
protocol BenchLayout: Sendable {
    var users: Int { get }
    var videos: Int { get }
    var likes: Int { get }
    var follows: Int { get }
    func user(_ unit: Int) -> BenchUser
    func video(_ unit: Int) -> BenchVideo
    func likeRows(ofUser unit: Int) -> [BenchMark]
    func followRows(ofUser unit: Int) -> [BenchMark]
    /// Runs once the rows and their counters are in (notifications, ledger rows).
    func writeThroughProjectCode(with seeder: BenchSeeder) async throws
    /// What the final log line tells.
    var summary: Logger.Metadata { get }
}

/// A user as a layout makes one; every user's password is ``BenchDataset/password``.
struct BenchUser: Sendable {
    var id: UUID
    var email: String
    var username: String
    var displayName: String
    var createdAt: Date
}

struct BenchVideo: Sendable {
    var id: UUID
    var ownerID: UUID
    var title: String
    var description: String?
    var url: String
    var durationSeconds: Int
    var createdAt: Date
}

/// A like (of a video) or a follow (of a user).
struct BenchMark: Sendable {
    var userID: UUID
    var targetID: UUID
    var createdAt: Date
}

extension BenchLayout {
    /// The tables in load order (a row's foreign keys name rows of earlier tables), with what the schema derives from
    /// each row written with it, as the stores write it: search text (SQLite's triggers index it), referral codes.
    func tables() -> [BenchTable] {
        let layout = self
        let hash = BenchDataset.passwordHash
        return [
            BenchTable(
                name: "users", columns: ["id", "email", "username", "display_name", "password_hash", "created_at", "search_name", "referral_code"],
                units: self.users, rowCount: self.users
            ) { range in
                range.map { u -> [any Encodable & Sendable] in
                    let user = layout.user(u)
                    return [user.id, user.email, user.username, user.displayName, hash, user.createdAt, SearchText.stored(user.displayName),
                            ReferralCode.numbered(u)]
                }
            },
            BenchTable(
                name: "videos",
                columns: ["id", "user_id", "title", "description", "video_url", "duration_seconds", "created_at", "search_title", "search_text"],
                units: self.videos, rowCount: self.videos
            ) { range in
                range.map { v -> [any Encodable & Sendable] in
                    let video = layout.video(v)
                    let search = VideoSearchText(title: video.title, description: video.description)
                    return [video.id, video.ownerID, video.title, video.description, video.url, video.durationSeconds, video.createdAt,
                            search.title, search.all]
                }
            },
            BenchTable(name: "likes", columns: ["user_id", "video_id", "created_at"], units: self.users, rowCount: self.likes) { range in
                range.flatMap { u in layout.likeRows(ofUser: u).map { [$0.userID, $0.targetID, $0.createdAt] as [any Encodable & Sendable] } }
            },
            BenchTable(name: "follows", columns: ["follower_id", "following_id", "created_at"], units: self.users, rowCount: self.follows) { range in
                range.flatMap { u in layout.followRows(ofUser: u).map { [$0.userID, $0.targetID, $0.createdAt] as [any Encodable & Sendable] } }
            },
        ]
    }
}

/// One table's rows, produced on demand for a range of "units" (users for likes and follows, so a user's rows are
/// generated together), so the whole data set never sits in memory.
struct BenchTable: Sendable {
    let name: String
    let columns: [String]
    let units: Int
    let rowCount: Int
    let rows: @Sendable (Range<Int>) -> [[any Encodable & Sendable]]
}

/// Writes a ``BenchLayout``: its tables with multi-row INSERTs, a few transactions at a time, then every counter from
/// the rows with set-based UPDATEs, then what the layout writes through the project's own code, and refreshes the
/// planner's statistics.
struct BenchSeeder: Sendable {
    let layout: any BenchLayout
    let database: Database
    let logger: Logger
    /// Rows per transaction (a transaction holds several statements when the bind limit cuts them shorter).
    var rowsPerTransaction = 50_000

    func load() async throws {
        let start = ContinuousClock.now
        let existing = try await self.database.sql.raw("SELECT COUNT(*) AS n FROM users").first(decodingColumn: "n", as: Int.self) ?? 0
        guard existing == 0 else {
            throw ValidationError("the database already has \(existing) users: seed-bench loads an empty database only")
        }
        for table in self.layout.tables() {
            try await self.insert(table)
        }
        self.logger.info("setting counters", metadata: ["elapsed": "\(Self.seconds(since: start))"])
        try await self.database.transaction { connection in
            try await connection.raw("UPDATE videos SET like_count = (SELECT COUNT(*) FROM likes WHERE likes.video_id = videos.id)").run()
            // `video_count`'s predicate is the partial index videos_by_user's (and what the counter means: removed
            // videos leave it); with any other, each user's count scans every video.
            try await connection.raw(
                """
                UPDATE users SET
                    follower_count = (SELECT COUNT(*) FROM follows WHERE follows.following_id = users.id),
                    following_count = (SELECT COUNT(*) FROM follows WHERE follows.follower_id = users.id),
                    video_count = (
                        SELECT COUNT(*) FROM videos
                        WHERE videos.user_id = users.id AND videos.deleted_at IS NULL AND videos.removed_at IS NULL
                    )
                """
            ).run()
        }
        try await self.layout.writeThroughProjectCode(with: self)
        self.logger.info("refreshing statistics", metadata: ["elapsed": "\(Self.seconds(since: start))"])
        try await self.database.sql.raw(self.database.dialect.refreshStatistics).run()
        self.logger.info("bench data set loaded", metadata: self.layout.summary.merging(["elapsed": "\(Self.seconds(since: start))"]) { $1 })
    }

    private func insert(_ table: BenchTable) async throws {
        guard table.rowCount > 0 else { return }
        let unitsPerTransaction = max(1, Int(Double(self.rowsPerTransaction) * Double(table.units) / Double(table.rowCount)))
        let rowsPerStatement = min(self.rowsPerTransaction, self.database.dialect.maxBindParameters / table.columns.count)
        try await self.inParallel(table.name, units: table.units, rowCount: table.rowCount, unitsPerTransaction: unitsPerTransaction) { units in
            let rows = table.rows(units)
            try await self.database.transaction { connection in
                for first in stride(from: 0, to: rows.count, by: rowsPerStatement) {
                    let insert = connection.insert(into: table.name).columns(table.columns)
                    for row in rows[first..<min(first + rowsPerStatement, rows.count)] {
                        insert.values(row)
                    }
                    try await insert.run()
                }
            }
            return rows.count
        }
    }

    /// Runs `work` over `0..<units` cut into ranges of `unitsPerTransaction`, the dialect's ``SQLDialectKind/bulkWriters``
    /// at a time, logging the rows each returns as it ends (`rowCount`, the total expected; `units` by default).
    func inParallel(
        _ name: String, units: Int, rowCount: Int? = nil, unitsPerTransaction: Int,
        _ work: @escaping @Sendable (Range<Int>) async throws -> Int
    ) async throws {
        let start = ContinuousClock.now
        var pending = stride(from: 0, to: units, by: unitsPerTransaction)
            .map { $0..<min($0 + unitsPerTransaction, units) }
            .makeIterator()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<self.database.dialect.bulkWriters {
                guard let range = pending.next() else { break }
                group.addTask { try await work(range) }
            }
            var loaded = 0
            while let written = try await group.next() {
                loaded += written
                self.logger.info(
                    "loading", metadata: ["table": "\(name)", "rows": "\(loaded)/\(rowCount ?? units)", "elapsed": "\(Self.seconds(since: start))"])
                if let range = pending.next() {
                    group.addTask { try await work(range) }
                }
            }
        }
    }

    private static func seconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        return String(format: "%.1f s", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
