import Foundation
import SQLKit

extension Migration {
    static let search = Migration(version: 12, name: "search text of videos and users, word indexes", backfill: SearchBackfill.run) { d in
        [
            // The normalised words (``SearchText``), written by the stores in the same statement as what they come
            // from: a video's title words, and its title and description words together; a user's display-name words.
            "ALTER TABLE videos ADD COLUMN search_title TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE videos ADD COLUMN search_text TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE users ADD COLUMN search_name TEXT NOT NULL DEFAULT ''",
        ]
            + d.wordIndex(.videoSearch) + d.wordIndex(.userSearch)
            // Username prefixes are a range in code-point order.
            + d.codePointIndex(name: "users_username_code_points", table: "users", column: "username")
    }
}

extension WordIndex {
    /// Every word of a video's title and description; searches return only videos neither deleted nor removed.
    static let videoSearch = WordIndex(table: "videos", column: "search_text", live: "deleted_at IS NULL AND removed_at IS NULL")
    /// Every word of a user's display name; searches never return suspended users.
    static let userSearch = WordIndex(table: "users", column: "search_name", live: "suspended_at IS NULL")
}

/// Fills the search text of the rows that existed before V012, in the migration's transaction, in pages by id.
private enum SearchBackfill {
    static let pageSize = 1000

    private struct VideoText: Decodable {
        var id: UUID
        var title: String
        var description: String?
    }

    private struct UserName: Decodable {
        var id: UUID
        var displayName: String

        enum CodingKeys: String, CodingKey {
            case id
            case displayName = "display_name"
        }
    }

    @Sendable static func run(_ connection: any SQLDatabase, _: SQLDialectKind) async throws {
        var after: UUID?
        while true {
            let rows = try await connection.raw(self.page("SELECT id, title, description FROM videos", after: after))
                .all(decoding: VideoText.self)
            for row in rows {
                let text = VideoSearchText(title: row.title, description: row.description)
                try await connection.raw(
                    "UPDATE videos SET search_title = \(bind: text.title), search_text = \(bind: text.all) WHERE id = \(bind: row.id)"
                ).run()
            }
            guard rows.count == self.pageSize, let last = rows.last else { break }
            after = last.id
        }
        after = nil
        while true {
            let rows = try await connection.raw(self.page("SELECT id, display_name FROM users", after: after))
                .all(decoding: UserName.self)
            for row in rows {
                try await connection.raw(
                    "UPDATE users SET search_name = \(bind: SearchText.stored(row.displayName)) WHERE id = \(bind: row.id)"
                ).run()
            }
            guard rows.count == self.pageSize, let last = rows.last else { break }
            after = last.id
        }
    }

    private static func page(_ select: SQLQueryString, after: UUID?) -> SQLQueryString {
        var query = select
        if let after { query = query + " WHERE id > \(bind: after)" }
        return query + " ORDER BY id \(limit: self.pageSize)"
    }
}
