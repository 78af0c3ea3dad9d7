import Foundation
import SQLKit
import Testing

@testable import Reelbase

/// PostgreSQL's only: SQLite has no prepared statements shared between runs at this level (sqlite-nio prepares each).
@Suite("Database: statements prepared once per connection")
struct PreparedStatementTests {
    /// One connection, so that `pg_prepared_statements` (which lists the asking connection's) sees every run.
    private static func withOneConnection(_ body: @escaping @Sendable (Database) async throws -> Void) async throws {
        try await TestApp.withFreshDatabase(.postgres) { url in
            try await DatabaseConnector.withDatabase(try DatabaseURL(url), poolSize: 1, logger: TestApp.logger, body)
        }
    }

    private struct Prepared: Decodable, Equatable {
        var runs: Int
        var types: String

        enum CodingKeys: String, CodingKey {
            case runs
            case types = "parameter_types"
        }
    }

    /// The statements of `text` this connection holds prepared, with how often each ran.
    private static func prepared(_ text: String, on db: Database) async throws -> [Prepared] {
        try await db.sql.raw(
            """
            SELECT CAST(generic_plans + custom_plans AS BIGINT) AS runs, CAST(parameter_types AS TEXT) AS parameter_types
            FROM pg_prepared_statements WHERE statement = \(bind: text) AND NOT from_sql
            """
        ).all(decoding: Prepared.self)
    }

    @Test func aStatementWithParametersIsPreparedOnceAndRunAgain() async throws {
        try await Self.withOneConnection { db in
            let text = "SELECT CAST($1 AS BIGINT) + 1 AS next"
            for value in [1, 2, 3] {
                let next = try await db.sql.raw("SELECT CAST(\(bind: value) AS BIGINT) + 1 AS next").first(decodingColumn: "next", as: Int.self)
                #expect(next == value + 1)
            }
            #expect(try await Self.prepared(text, on: db) == [Prepared(runs: 3, types: "{bigint}")])

            // A transaction's statements too, and a rolled-back transaction does not take them away.
            for _ in 0..<2 {
                try await db.transaction { connection in
                    try await connection.raw("SELECT CAST(\(bind: 9) AS BIGINT) + 2 AS next").run()
                }
            }
            await #expect(throws: (any Error).self) {
                try await db.transaction { connection in
                    try await connection.raw("SELECT CAST(\(bind: 9) AS BIGINT) + 2 AS next").run()
                    throw CancellationError()
                }
            }
            #expect(try await Self.prepared("SELECT CAST($1 AS BIGINT) + 2 AS next", on: db) == [Prepared(runs: 3, types: "{bigint}")])
        }
    }

    /// In a transaction an earlier error aborted, a statement's first preparation fails (`25P02`) and postgres-nio keeps
    /// that error under its name on the connection: the statement gets a new name, so it runs once the transaction is over.
    @Test func aStatementRefusedInAnAbortedTransactionRunsAfterIt() async throws {
        try await Self.withOneConnection { db in
            let read: @Sendable (any SQLDatabase) async throws -> Int? = { connection in
                try await connection.raw("SELECT CAST(\(bind: 41) AS BIGINT) + 1 AS answer").first(decodingColumn: "answer", as: Int.self)
            }
            let refused = try await db.transaction { connection -> Bool in
                do {
                    try await connection.raw("SELECT CAST(\(bind: 1) AS BIGINT) / 0 AS never").run()
                    return false
                } catch {
                    return (try? await read(connection)) == nil
                }
            }
            #expect(refused)
            #expect(try await read(db.sql) == 42)
            #expect(try await db.transaction { connection in try await read(connection) } == 42)
        }
    }

    /// A statement prepared before its table existed (a background pass racing the migrations at start-up) works once
    /// the table is there: postgres-nio keeps a failed preparation's error under its name, so the statement gets a new one.
    @Test func aStatementThatFailedToPrepareIsPreparedAgain() async throws {
        try await Self.withOneConnection { db in
            let read: @Sendable () async throws -> [Int] = {
                try await db.sql.raw("SELECT n FROM later WHERE n > \(bind: 0) ORDER BY n").all(decodingColumn: "n", as: Int.self)
            }
            for _ in 0..<2 {
                await #expect(throws: (any Error).self) { try await read() }
            }
            try await db.sql.raw("CREATE TABLE later (n BIGINT NOT NULL)").run()
            try await db.sql.raw("INSERT INTO later (n) VALUES (1), (2)").run()
            #expect(try await read() == [1, 2])
            #expect(try await read() == [1, 2])
        }
    }

    /// The same text with a `NULL` where a value was is another statement (the server fixed the parameter's type).
    @Test func theTypesOfTheValuesAreTheStatementsToo() async throws {
        try await Self.withOneConnection { db in
            let text = "SELECT CAST($1 AS TEXT) AS value"
            let some = try await db.sql.raw("SELECT CAST(\(bind: "x") AS TEXT) AS value").first(decodingColumn: "value", as: String?.self)
            let none = try await db.sql.raw("SELECT CAST(\(bind: String?.none) AS TEXT) AS value").first(decodingColumn: "value", as: String?.self)
            #expect(some == "x")
            #expect(none == .some(nil))
            #expect(try await Self.prepared(text, on: db) == [Prepared(runs: 1, types: "{text}")])
        }
    }

    /// A page's row count is written into the statement (`\(limit:)`), not bound: with `LIMIT $n` PostgreSQL never
    /// chose the feed statement's generic plan and planned it again on every request (0.69 ms planning for 0.21 ms
    /// of execution on the bench data).
    @Test func theFeedRunsOnItsGenericPlan() async throws {
        try await Self.withOneConnection { db in
            _ = try await Migrator(database: db, logger: TestApp.logger).migrate()
            let dataset = try BenchDataset(users: 300, videos: 3_000, likes: 6_000, follows: 6_000, seed: 7)
            try await BenchSeeder(layout: dataset, database: db, logger: TestApp.logger).load()
            let viewer = try #require(
                try await db.sql.raw("SELECT id FROM users ORDER BY id LIMIT 1").first(decodingColumn: "id", as: UUID.self))
            let store = SQLVideoStore(database: db)
            for _ in 0..<8 {
                let page = try await store.page(ownerID: nil, after: nil, limit: 20, viewer: viewer)
                #expect(page.items.count == 20)
            }
            let plans = try await db.sql.raw(
                """
                SELECT CAST(generic_plans AS BIGINT) AS generic FROM pg_prepared_statements
                WHERE statement LIKE '%AS is_bookmarked FROM videos JOIN users%' AND NOT from_sql
                """
            ).all(decodingColumn: "generic", as: Int.self)
            // Five custom plans first, then the generic one for the other three.
            #expect(plans == [3])
        }
    }

    private struct Mixed: Decodable, Equatable {
        var id: UUID
        var name: String
        var nothing: String?
        var count: Int
        var small: Int
        var total: Int
        var ratio: Double
        var average: Double
        var flag: Bool
        var at: Date
    }

    /// A prepared statement's rows are read by ``PostgresRowReader``: each type as postgres-kit reads it, `numeric`
    /// read as a `Double` (an `AVG`) included, which only postgres-kit's own reader can do.
    @Test func aPreparedStatementsRowDecodesEveryTypeAsBefore() async throws {
        try await Self.withOneConnection { db in
            let id = UUID()
            let at = Date(timeIntervalSince1970: 1_764_633_600.25)
            let row = try await db.sql.raw(
                """
                SELECT CAST(\(bind: id) AS UUID) AS id, CAST(\(bind: "하나 one") AS TEXT) AS name, CAST(NULL AS TEXT) AS nothing,
                       CAST(\(bind: 7) AS BIGINT) AS count, CAST(3 AS INTEGER) AS small,
                       CAST(\(bind: 2_000_000_000) AS BIGINT) * 2 AS total,
                       CAST(1.5 AS DOUBLE PRECISION) AS ratio,
                       (SELECT AVG(n) FROM (VALUES (1), (2)) AS v (n)) AS average, TRUE AS flag, CAST(\(bind: at) AS TIMESTAMPTZ) AS at
                """
            ).first(decoding: Mixed.self)
            #expect(row == Mixed(id: id, name: "하나 one", nothing: nil, count: 7, small: 3, total: 4_000_000_000, ratio: 1.5, average: 1.5, flag: true, at: at))
        }
    }
}
