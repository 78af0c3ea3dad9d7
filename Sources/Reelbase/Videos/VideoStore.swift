import Foundation
import SQLKit

/// Why the video store refused a change.
enum VideoStoreError: Error, Sendable, Equatable {
    /// The account publishing the video no longer exists.
    case ownerNotFound
    /// No live video has this id.
    case notFound
    /// The video belongs to someone else.
    case notOwner
}

/// Where videos live. A deleted video keeps its row (with `deleted_at`), so likes keep their foreign key and
/// cursors that point at it still work, but no method here ever answers it, nor any video its viewer cannot see
/// (``Visibility``).
protocol VideoStore: Sendable {
    /// Stores the video and counts it in its owner's `video_count`; throws ``VideoStoreError/ownerNotFound``.
    func create(_ video: NewVideo, ownerID: UUID) async throws -> VideoRecord
    /// The video with this id if `viewer` can see it, with `viewer`'s state when a viewer is given.
    func find(id: UUID, viewer: UUID?) async throws -> VideoRecord?
    /// The videos `viewer` can see, newest first, of one owner or of everyone, after `after`.
    func page(ownerID: UUID?, after: FeedCursor?, limit: Int, viewer: UUID?) async throws -> Page<VideoRecord>
    /// Deletes the video if `userID` owns it; throws ``VideoStoreError/notFound`` or ``VideoStoreError/notOwner``.
    func delete(id: UUID, by userID: UUID) async throws
}

/// An `INSERT … RETURNING` that answered no row: a driver fault, answered and logged like any unexpected error.
private struct NoRowReturned: Error {}

struct SQLVideoStore: VideoStore {
    let database: Database

    private var dialect: SQLDialectKind { self.database.dialect }

    private var videos: VideoSelect { VideoSelect(dialect: self.dialect) }

    func create(_ video: NewVideo, ownerID: UUID) async throws -> VideoRecord {
        try await self.database.transaction { connection in
            guard
                let owner = try await connection.raw(
                    "UPDATE users SET video_count = video_count + 1 WHERE id = \(bind: ownerID) RETURNING \(UserRecord.columns)"
                ).first(reading: UserRecord.self)
            else { throw VideoStoreError.ownerNotFound }
            // The search text goes in with the row, so the video is found the moment it is committed.
            let search = VideoSearchText(title: video.title, description: video.description)
            let row = try await connection.raw(
                """
                INSERT INTO videos (
                    id, user_id, title, description, video_url, thumbnail_url, duration_seconds, created_at, search_title, search_text)
                VALUES (\(bind: video.id), \(bind: ownerID), \(bind: video.title), \(bind: video.description), \(bind: video.videoURL),
                        \(bind: video.thumbnailURL), \(bind: video.durationSeconds), \(self.dialect.now),
                        \(bind: search.title), \(bind: search.all))
                RETURNING \(self.videos.columns(sortKey: "videos.created_at"))
                """
            ).first(reading: VideoRow.self)
            // An INSERT without ON CONFLICT returns its row or throws; an empty answer is a driver fault.
            guard let row else { throw NoRowReturned() }
            // The viewer is the owner: nobody has liked or bookmarked the video yet, and nobody follows themselves.
            return VideoRecord(video: row, owner: owner, viewer: VideoViewerState(isLiked: false, isFollowing: false, isBookmarked: false))
        }
    }

    func find(id: UUID, viewer: UUID?) async throws -> VideoRecord? {
        try await self.database.sql.raw(
            self.videos.select(viewer: viewer) + " WHERE videos.id = \(bind: id) AND " + Visibility(viewer: viewer).video()
        ).first(reading: VideoRecord.self)
    }

    func page(ownerID: UUID?, after: FeedCursor?, limit: Int, viewer: UUID?) async throws -> Page<VideoRecord> {
        var query = self.videos.select(viewer: viewer) + " WHERE " + Visibility(viewer: viewer).video()
        if let ownerID {
            query = query + " AND videos.user_id = \(bind: ownerID)"
        }
        if let after {
            query = query + " AND (videos.created_at, videos.id) < (\(self.dialect.instant(exact: after.instant)), \(bind: after.id))"
        }
        query = query + " ORDER BY videos.created_at DESC, videos.id DESC \(limit: limit + 1)"
        let rows = try await self.database.sql.raw(query).all(reading: VideoRecord.self)
        return Page(rows: rows, limit: limit, key: \.cursor)
    }

    func delete(id: UUID, by userID: UUID) async throws {
        try await self.database.transaction { connection in
            let deleted = try await connection.raw(
                """
                UPDATE videos SET deleted_at = \(self.dialect.now)
                WHERE id = \(bind: id) AND user_id = \(bind: userID) AND deleted_at IS NULL AND removed_at IS NULL
                RETURNING id
                """
            ).first()
            guard deleted != nil else {
                // The owner's own visibility: a removed video is hidden from its owner too, so it is not found.
                let live = try await connection.raw(
                    "SELECT videos.id FROM " + Visibility(viewer: userID).videoSource(id: id)
                ).first()
                throw live == nil ? VideoStoreError.notFound : VideoStoreError.notOwner
            }
            try await connection.raw("UPDATE users SET video_count = video_count - 1 WHERE id = \(bind: userID)").run()
            // Deleting a video deletes its bookmarks (hiding it keeps them).
            try await connection.raw("DELETE FROM bookmarks WHERE video_id = \(bind: id)").run()
        }
    }
}

/// The one `SELECT` of videos with their owners and, for a signed-in viewer, the viewer's state, for every list that
/// shows videos (feeds, a user's videos, bookmarks, search).
struct VideoSelect: Sendable {
    let dialect: SQLDialectKind

    /// The columns of a ``VideoRow``, its `sort_key` read from `sortKey` (the list's order).
    func columns(sortKey: SQLQueryString) -> SQLQueryString {
        """
        videos.id AS video_id, videos.title, videos.description, videos.video_url, videos.thumbnail_url,
        videos.duration_seconds, videos.like_count, videos.created_at AS video_created_at,
        \(self.dialect.exactInstant(sortKey)) AS sort_key
        """
    }

    /// `SELECT` of a video and its owner from `source` (which names `videos`; joined here with the owner as `users`);
    /// with a viewer, also whether the viewer likes and bookmarks the video and follows its owner: three primary-key
    /// probes per row, so a page costs one statement, not one per video.
    /// `extra` adds columns of `source` (a search's rank).
    func select(
        viewer: UUID?, sortKey: SQLQueryString = "videos.created_at", from source: SQLQueryString = "videos", extra: SQLQueryString? = nil
    ) -> SQLQueryString {
        var columns = self.columns(sortKey: sortKey) + ", " + UserRecord.columns
        if let extra { columns = columns + ", " + extra }
        if let viewer {
            columns = columns + """
                ,
                EXISTS (SELECT 1 FROM likes WHERE likes.user_id = \(bind: viewer) AND likes.video_id = videos.id) AS is_liked,
                EXISTS (SELECT 1 FROM follows WHERE follows.follower_id = \(bind: viewer) AND follows.following_id = videos.user_id) AS is_following,
                EXISTS (SELECT 1 FROM bookmarks WHERE bookmarks.user_id = \(bind: viewer) AND bookmarks.video_id = videos.id) AS is_bookmarked
                """
        }
        return "SELECT " + columns + " FROM " + source + " JOIN users ON users.id = videos.user_id"
    }
}
