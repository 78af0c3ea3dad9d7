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
/// cursors that point at it still work, but no method here ever answers it.
protocol VideoStore: Sendable {
    /// Stores the video and counts it in its owner's `video_count`; throws ``VideoStoreError/ownerNotFound``.
    func create(_ video: NewVideo, ownerID: UUID) async throws -> VideoRecord
    /// The live video with this id, with `viewer`'s state when a viewer is given.
    func find(id: UUID, viewer: UUID?) async throws -> VideoRecord?
    /// Live videos newest first, of one owner or of everyone, after `after`.
    func page(ownerID: UUID?, after: FeedCursor?, limit: Int, viewer: UUID?) async throws -> Page<VideoRecord>
    /// Deletes the video if `userID` owns it; throws ``VideoStoreError/notFound`` or ``VideoStoreError/notOwner``.
    func delete(id: UUID, by userID: UUID) async throws
}

/// An `INSERT … RETURNING` that answered no row: a driver fault, answered and logged like any unexpected error.
private struct NoRowReturned: Error {}

struct SQLVideoStore: VideoStore {
    let database: Database

    private var dialect: SQLDialectKind { self.database.dialect }

    /// The columns of a ``VideoRow``.
    private var videoColumns: SQLQueryString {
        """
        videos.id AS video_id, videos.title, videos.description, videos.video_url, videos.thumbnail_url,
        videos.duration_seconds, videos.like_count, videos.created_at AS video_created_at,
        \(self.dialect.exactInstant("videos.created_at")) AS sort_key
        """
    }

    /// One statement for a video and its owner; with a viewer, also whether the viewer likes the video and
    /// follows its owner: two primary-key probes per row, so a page costs one statement, not one per video.
    private func select(viewer: UUID?) -> SQLQueryString {
        var columns = self.videoColumns + ", " + UserRecord.columns
        if let viewer {
            columns = columns + """
                ,
                EXISTS (SELECT 1 FROM likes WHERE likes.user_id = \(bind: viewer) AND likes.video_id = videos.id) AS is_liked,
                EXISTS (SELECT 1 FROM follows WHERE follows.follower_id = \(bind: viewer) AND follows.following_id = videos.user_id) AS is_following
                """
        }
        return "SELECT " + columns + " FROM videos JOIN users ON users.id = videos.user_id"
    }

    func create(_ video: NewVideo, ownerID: UUID) async throws -> VideoRecord {
        try await self.database.transaction { connection in
            guard
                let owner = try await connection.raw(
                    "UPDATE users SET video_count = video_count + 1 WHERE id = \(bind: ownerID) RETURNING \(UserRecord.columns)"
                ).first(decoding: UserRecord.self)
            else { throw VideoStoreError.ownerNotFound }
            let row = try await connection.raw(
                """
                INSERT INTO videos (id, user_id, title, description, video_url, thumbnail_url, duration_seconds, created_at)
                VALUES (\(bind: video.id), \(bind: ownerID), \(bind: video.title), \(bind: video.description), \(bind: video.videoURL),
                        \(bind: video.thumbnailURL), \(bind: video.durationSeconds), \(self.dialect.now))
                RETURNING \(self.videoColumns)
                """
            ).first(decoding: VideoRow.self)
            // An INSERT without ON CONFLICT returns its row or throws; an empty answer is a driver fault.
            guard let row else { throw NoRowReturned() }
            // The viewer is the owner: nobody has liked the video yet, and nobody follows themselves.
            return VideoRecord(video: row, owner: owner, viewer: VideoViewerState(isLiked: false, isFollowing: false))
        }
    }

    func find(id: UUID, viewer: UUID?) async throws -> VideoRecord? {
        try await self.database.sql.raw(
            self.select(viewer: viewer) + " WHERE videos.id = \(bind: id) AND videos.deleted_at IS NULL"
        ).first(decoding: VideoRecord.self)
    }

    func page(ownerID: UUID?, after: FeedCursor?, limit: Int, viewer: UUID?) async throws -> Page<VideoRecord> {
        var query = self.select(viewer: viewer) + " WHERE videos.deleted_at IS NULL"
        if let ownerID {
            query = query + " AND videos.user_id = \(bind: ownerID)"
        }
        if let after {
            query = query + " AND (videos.created_at, videos.id) < (\(self.dialect.instant(exact: after.instant)), \(bind: after.id))"
        }
        query = query + " ORDER BY videos.created_at DESC, videos.id DESC LIMIT \(bind: limit + 1)"
        let rows = try await self.database.sql.raw(query).all(decoding: VideoRecord.self)
        return Page(rows: rows, limit: limit, key: \.cursor)
    }

    func delete(id: UUID, by userID: UUID) async throws {
        try await self.database.transaction { connection in
            let deleted = try await connection.raw(
                """
                UPDATE videos SET deleted_at = \(self.dialect.now)
                WHERE id = \(bind: id) AND user_id = \(bind: userID) AND deleted_at IS NULL
                RETURNING id
                """
            ).first()
            guard deleted != nil else {
                let live = try await connection.raw("SELECT user_id FROM videos WHERE id = \(bind: id) AND deleted_at IS NULL").first()
                throw live == nil ? VideoStoreError.notFound : VideoStoreError.notOwner
            }
            try await connection.raw("UPDATE users SET video_count = video_count - 1 WHERE id = \(bind: userID)").run()
        }
    }
}
