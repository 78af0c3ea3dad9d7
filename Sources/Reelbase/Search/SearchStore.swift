import Foundation
import SQLKit

/// Video and user search (API.md "Search"): one statement per page, relevance first, keyset-paged, with the viewer's
/// state, and nothing the viewer cannot see (``Visibility``). Both take a query with at least one word.
protocol SearchStore: Sendable {
    /// Videos whose title and description words start with every word of `query`: all words whole in the title
    /// first, then all words in the title, then the rest; within each, more whole-word matches first, then newest.
    func videos(matching query: SearchQuery, after: FeedCursor?, limit: Int, viewer: UUID?) async throws -> Page<VideoRecord>
    /// Users whose username starts with the folded query, or whose display-name words start with every word of it:
    /// the exact username first, then username prefixes, then display-name matches, each by username.
    func users(matching query: SearchQuery, after: FeedCursor?, limit: Int, viewer: UUID?) async throws -> Page<SearchedUser>
}

/// A user found by ``SearchStore/users(matching:after:limit:viewer:)``, with the viewer's state when signed in.
struct SearchedUser: SQLRowReadable {
    var user: UserRecord
    var viewer: FollowViewerState?
    /// The match's tier: 0 exact username, 1 username prefix, 2 display name.
    var tier: Int64

    init(row: any SQLRow) throws {
        self.user = try UserRecord(row: row)
        self.viewer = try FollowViewerState.readIfPresent(from: row)
        self.tier = try row.decode(column: "search_rank", as: Int64.self)
    }

    /// The key of users search: tier, then username, which never changes, so the cursor keeps the id and the
    /// next page reads the username back from it.
    var cursor: FeedCursor { FeedCursor(instant: 0, id: self.user.id, rank: self.tier) }
}

/// A video found by search and its relevance (``SearchStore/videos(matching:after:limit:viewer:)``).
private struct RankedVideo: SQLRowReadable {
    var record: VideoRecord
    var rank: Int64

    init(row: any SQLRow) throws {
        self.record = try VideoRecord(row: row)
        self.rank = try row.decode(column: "search_rank", as: Int64.self)
    }

    /// The key of video search: rank, then the feed's key (newest first).
    var cursor: FeedCursor { FeedCursor(instant: self.record.video.sortKey, id: self.record.id, rank: self.rank) }
}

struct SQLSearchStore: SearchStore {
    let database: Database

    private var dialect: SQLDialectKind { self.database.dialect }

    /// A video's rank, higher first: its tier (all words whole in the title 2, all words in the title 1, else 0)
    /// times this, plus how many words are whole words of it; a query has at most 50 words.
    static let tierWeight = 100

    func videos(matching query: SearchQuery, after: FeedCursor?, limit: Int, viewer: UUID?) async throws -> Page<VideoRecord> {
        let words = query.words
        guard !words.isEmpty else { return Page(rows: [], limit: limit) { $0.cursor } }
        // Padded with spaces, a stored text holds " word " for each whole word and " prefix" for each word start.
        let title: SQLQueryString = "(' ' || videos.search_title || ' ')"
        let text: SQLQueryString = "(' ' || videos.search_text || ' ')"
        let wholeInTitle = self.all(words.map { self.holds(title, " \($0) ") })
        let inTitle = self.all(words.map { self.holds(title, " \($0)") })
        let wholeCount = Self.joined(words.map { "CASE WHEN " + self.holds(text, " \($0) ") + " THEN 1 ELSE 0 END" }, " + ")
        let relevance: SQLQueryString = """
            (CASE WHEN \(wholeInTitle) THEN \(bind: 2 * Self.tierWeight) WHEN \(inTitle) THEN \(bind: Self.tierWeight) ELSE 0 END \
            + \(wholeCount))
            """
        // Innermost: the matches the viewer can see, ranked; then the page of them by the keyset; only then the
        // columns and viewer state of that page's rows, so neither database probes likes or follows of rows it drops.
        var matches: SQLQueryString = """
            SELECT * FROM (
                SELECT videos.id AS ranked_id, videos.created_at AS ranked_at, \(relevance) AS relevance
                FROM videos JOIN users ON users.id = videos.user_id
                WHERE \(self.dialect.matchesWordPrefixes(.videoSearch, words)) AND \(Visibility(viewer: viewer).video())
            ) AS scored
            """
        if let after {
            matches = matches + """
                 WHERE (scored.relevance, scored.ranked_at, scored.ranked_id) \
                < (\(bind: after.rank ?? 0), \(self.dialect.instant(exact: after.instant)), \(bind: after.id))
                """
        }
        matches = matches + " ORDER BY scored.relevance DESC, scored.ranked_at DESC, scored.ranked_id DESC \(limit: limit + 1)"
        let statement = VideoSelect(dialect: self.dialect).select(
            viewer: viewer, from: "(" + matches + ") AS ranked JOIN videos ON videos.id = ranked.ranked_id", extra: "ranked.relevance AS search_rank"
        ) + " ORDER BY ranked.relevance DESC, videos.created_at DESC, videos.id DESC"
        let rows = try await self.database.sql.raw(statement).all(reading: RankedVideo.self)
        return Page(rows: rows, limit: limit, key: \.cursor).map(\.record)
    }

    func users(matching query: SearchQuery, after: FeedCursor?, limit: Int, viewer: UUID?) async throws -> Page<SearchedUser> {
        guard !query.words.isEmpty else { return Page(rows: [], limit: limit, key: \.cursor) }
        let username = self.dialect.codePointOrder("users.username")
        // `[q, q + U+10FFFF)` in code-point order: every username starting with q, `_` and all, as one index range.
        let prefix: SQLQueryString = "\(username) >= \(bind: query.folded) AND \(username) < \(bind: query.folded + "\u{10FFFF}")"
        let tier: SQLQueryString = "CASE WHEN users.username = \(bind: query.folded) THEN 0 WHEN \(prefix) THEN 1 ELSE 2 END"
        var matches: SQLQueryString = """
            SELECT * FROM (
                SELECT users.id AS ranked_id, users.username AS ranked_name, \(tier) AS tier FROM users
                WHERE ((\(prefix)) OR \(self.dialect.matchesWordPrefixes(.userSearch, query.words))) AND \(Visibility(viewer: viewer).user())
            ) AS scored
            """
        let name = self.dialect.codePointOrder("scored.ranked_name")
        if let after {
            let last = self.dialect.codePointOrder("(SELECT username FROM users WHERE id = \(bind: after.id))")
            matches = matches + " WHERE scored.tier > \(bind: after.rank ?? 0) OR (scored.tier = \(bind: after.rank ?? 0) AND \(name) > \(last))"
        }
        matches = matches + " ORDER BY scored.tier, \(name) \(limit: limit + 1)"
        var columns = UserRecord.columns + ", ranked.tier AS search_rank"
        if let viewer { columns = columns + ", " + FollowViewerState.columns(viewer: viewer) }
        let statement: SQLQueryString = "SELECT " + columns + " FROM (" + matches + ") AS ranked JOIN users ON users.id = ranked.ranked_id"
            + " ORDER BY ranked.tier, \(username)"
        let rows = try await self.database.sql.raw(statement).all(reading: SearchedUser.self)
        return Page(rows: rows, limit: limit, key: \.cursor)
    }

    /// True when `text` holds `needle`, bound as a value.
    private func holds(_ text: SQLQueryString, _ needle: String) -> SQLQueryString {
        self.dialect.position(of: "\(bind: needle)", in: text) + " > 0"
    }

    /// The conjunction of `conditions`.
    private func all(_ conditions: [SQLQueryString]) -> SQLQueryString {
        "(" + Self.joined(conditions, " AND ") + ")"
    }

    private static func joined(_ parts: [SQLQueryString], _ separator: SQLQueryString) -> SQLQueryString {
        guard let first = parts.first else { return "" }
        return parts.dropFirst().reduce(first) { $0 + separator + $1 }
    }
}
