import Foundation
import SQLKit

/// A table of one row per user and video, `(user_id, video_id, created_at)` keyed by the pair: `likes` and
/// `bookmarks`, whose adds and batch checks are the same statements.
struct UserVideoTable: Sendable {
    let name: String
    let dialect: SQLDialectKind

    /// Inserts the user's row for the video in the caller's transaction if the user can see the video, after
    /// ``Visibility/serialise(_:ownerOf:on:dialect:)``; a row already there keeps its time. Returns whether a row
    /// was inserted (`false`: there already, or a video the user cannot see).
    func insertIfVisible(userID: UUID, videoID: UUID, on connection: any SQLDatabase) async throws -> Bool {
        try await Visibility.serialise(userID, ownerOf: videoID, on: connection, dialect: self.dialect)
        let inserted = try await connection.raw(
            """
            INSERT INTO \(ident: self.name) (user_id, video_id, created_at)
            SELECT \(bind: userID), videos.id, \(self.dialect.now) FROM \(Visibility(viewer: userID).videoSource(id: videoID))
            ON CONFLICT DO NOTHING
            RETURNING video_id
            """
        ).first()
        return inserted != nil
    }

    /// Which of `videoIDs` name videos the user can see and has a row for: one statement, served by the primary key.
    func visibleVideos(among videoIDs: [UUID], userID: UUID, on database: any SQLDatabase) async throws -> Set<UUID> {
        let found = try await database.raw(
            """
            SELECT marks.video_id FROM \(ident: self.name) AS marks
            JOIN videos ON videos.id = marks.video_id JOIN users ON users.id = videos.user_id
            WHERE marks.user_id = \(bind: userID) AND \(self.dialect.column("marks.video_id", isIn: videoIDs))
              AND \(Visibility(viewer: userID).video())
            """
        ).all(decodingColumn: "video_id", as: UUID.self)
        return Set(found)
    }
}
