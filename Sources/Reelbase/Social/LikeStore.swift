import Foundation
import SQLKit

enum LikeStoreError: Error, Sendable, Equatable {
    /// No live video has this id.
    case videoNotFound
}

/// Likes of videos, and each video's `like_count`, which changes only in the transaction that adds or removes
/// a like row: an `INSERT … ON CONFLICT DO NOTHING` or `DELETE` tells whether anything changed, and only then is
/// the counter moved, by an atomic `like_count ± 1`. Repeating a like or an unlike changes nothing.
///
/// Every method but ``likedVideos(among:userID:)`` throws ``LikeStoreError/videoNotFound`` for an unknown or
/// deleted video.
protocol LikeStore: Sendable {
    /// The video's like count after `userID` likes it.
    func like(videoID: UUID, userID: UUID) async throws -> Int
    /// The video's like count after `userID` no longer likes it.
    func unlike(videoID: UUID, userID: UUID) async throws -> Int
    /// Whether `userID` likes the video.
    func isLiked(videoID: UUID, userID: UUID) async throws -> Bool
    /// Which of `videoIDs` name live videos that `userID` likes: one statement, served by the likes primary key.
    func likedVideos(among videoIDs: [UUID], userID: UUID) async throws -> Set<UUID>
}

struct SQLLikeStore: LikeStore {
    let database: Database

    private var dialect: SQLDialectKind { self.database.dialect }

    func like(videoID: UUID, userID: UUID) async throws -> Int {
        try await self.database.transaction { connection in
            // Selecting the video from `videos` makes a like of an unknown or deleted video insert nothing.
            let inserted = try await connection.raw(
                """
                INSERT INTO likes (user_id, video_id, created_at)
                SELECT \(bind: userID), id, \(self.dialect.now) FROM videos WHERE id = \(bind: videoID) AND deleted_at IS NULL
                ON CONFLICT DO NOTHING
                RETURNING video_id
                """
            ).first()
            guard inserted != nil else { return try await self.likeCount(videoID: videoID, on: connection) }
            let count = try await connection.raw(
                "UPDATE videos SET like_count = like_count + 1 WHERE id = \(bind: videoID) RETURNING like_count"
            ).first(decodingColumn: "like_count", as: Int.self)
            guard let count else { throw LikeStoreError.videoNotFound }
            return count
        }
    }

    func unlike(videoID: UUID, userID: UUID) async throws -> Int {
        try await self.database.transaction { connection in
            let removed = try await connection.raw(
                "DELETE FROM likes WHERE user_id = \(bind: userID) AND video_id = \(bind: videoID) RETURNING video_id"
            ).first()
            guard removed != nil else { return try await self.likeCount(videoID: videoID, on: connection) }
            let count = try await connection.raw(
                """
                UPDATE videos SET like_count = like_count - 1 WHERE id = \(bind: videoID) AND deleted_at IS NULL
                RETURNING like_count
                """
            ).first(decodingColumn: "like_count", as: Int.self)
            // A deleted video is no video: its likes stay as they were (the transaction rolls back).
            guard let count else { throw LikeStoreError.videoNotFound }
            return count
        }
    }

    func isLiked(videoID: UUID, userID: UUID) async throws -> Bool {
        let liked = try await self.database.sql.raw(
            """
            SELECT EXISTS (SELECT 1 FROM likes WHERE likes.user_id = \(bind: userID) AND likes.video_id = videos.id) AS is_liked
            FROM videos WHERE id = \(bind: videoID) AND deleted_at IS NULL
            """
        ).first(decodingColumn: "is_liked", as: Bool.self)
        guard let liked else { throw LikeStoreError.videoNotFound }
        return liked
    }

    func likedVideos(among videoIDs: [UUID], userID: UUID) async throws -> Set<UUID> {
        let liked = try await self.database.sql.raw(
            """
            SELECT likes.video_id FROM likes JOIN videos ON videos.id = likes.video_id
            WHERE likes.user_id = \(bind: userID) AND \(self.dialect.column("likes.video_id", isIn: videoIDs))
              AND videos.deleted_at IS NULL
            """
        ).all(decodingColumn: "video_id", as: UUID.self)
        return Set(liked)
    }

    private func likeCount(videoID: UUID, on connection: any SQLDatabase) async throws -> Int {
        let count = try await connection.raw("SELECT like_count FROM videos WHERE id = \(bind: videoID) AND deleted_at IS NULL")
            .first(decodingColumn: "like_count", as: Int.self)
        guard let count else { throw LikeStoreError.videoNotFound }
        return count
    }
}
