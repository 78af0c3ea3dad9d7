import Foundation
import SQLKit

enum BookmarkStoreError: Error, Sendable, Equatable {
    /// No video the user can see has this id.
    case videoNotFound
}

/// The videos each user keeps (API.md "Safety and collections"). A bookmark of a video its owner hides from the
/// user (suspension, removal, a block) is kept but not shown, and shows again when the video does; deleting the video
/// deletes its bookmarks.
protocol BookmarkStore: Sendable {
    /// `userID` bookmarks the video (idempotent: a repeat keeps the first time); throws
    /// ``BookmarkStoreError/videoNotFound`` for a video the user cannot see.
    func bookmark(videoID: UUID, userID: UUID) async throws
    /// `userID` no longer bookmarks the video: always works, whatever the video has become.
    func unbookmark(videoID: UUID, userID: UUID) async throws
    /// Which of `videoIDs` name videos `userID` can see and has bookmarked: one statement.
    func bookmarkedVideos(among videoIDs: [UUID], userID: UUID) async throws -> Set<UUID>
    /// The videos `userID` bookmarked and can see, newest bookmark first, with the viewer's state.
    func list(userID: UUID, after: FeedCursor?, limit: Int) async throws -> Page<VideoRecord>
}

struct SQLBookmarkStore: BookmarkStore {
    let database: Database

    private var dialect: SQLDialectKind { self.database.dialect }

    private var bookmarks: UserVideoTable { UserVideoTable(name: "bookmarks", dialect: self.dialect) }

    func bookmark(videoID: UUID, userID: UUID) async throws {
        try await self.database.transaction { connection in
            // Serialised with block creation: a bookmark of a video the user cannot see inserts nothing.
            let inserted = try await self.bookmarks.insertIfVisible(userID: userID, videoID: videoID, on: connection)
            guard !inserted else { return }
            // Bookmarked already, or a video the user cannot see.
            let visible = try await connection.raw("SELECT videos.id FROM " + Visibility(viewer: userID).videoSource(id: videoID)).first()
            guard visible != nil else { throw BookmarkStoreError.videoNotFound }
        }
    }

    func unbookmark(videoID: UUID, userID: UUID) async throws {
        try await self.database.sql.raw("DELETE FROM bookmarks WHERE user_id = \(bind: userID) AND video_id = \(bind: videoID)").run()
    }

    func bookmarkedVideos(among videoIDs: [UUID], userID: UUID) async throws -> Set<UUID> {
        try await self.bookmarks.visibleVideos(among: videoIDs, userID: userID, on: self.database.sql)
    }

    func list(userID: UUID, after: FeedCursor?, limit: Int) async throws -> Page<VideoRecord> {
        // One statement: the bookmarks' keyset, the videos the user can see, and each video's viewer state.
        var query = VideoSelect(dialect: self.dialect).select(
            viewer: userID, sortKey: "bookmarks.created_at", from: "bookmarks JOIN videos ON videos.id = bookmarks.video_id")
        query = query + " WHERE bookmarks.user_id = \(bind: userID) AND " + Visibility(viewer: userID).video()
        if let after {
            query = query + " AND (bookmarks.created_at, bookmarks.video_id) < (\(self.dialect.instant(exact: after.instant)), \(bind: after.id))"
        }
        query = query + " ORDER BY bookmarks.created_at DESC, bookmarks.video_id DESC \(limit: limit + 1)"
        let rows = try await self.database.sql.raw(query).all(reading: VideoRecord.self)
        return Page(rows: rows, limit: limit, key: \.cursor)
    }
}
