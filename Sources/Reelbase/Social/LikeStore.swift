import Foundation
import SQLKit

enum LikeStoreError: Error, Sendable, Equatable {
    /// No video the user can see has this id.
    case videoNotFound
}

/// Likes of videos, and each video's `like_count`, which changes only in the transaction that adds or removes
/// a like row: an `INSERT … ON CONFLICT DO NOTHING` or `DELETE` tells whether anything changed, and only then is
/// the counter moved, by an atomic `like_count ± 1`. Repeating a like or an unlike changes nothing.
///
/// Every method but ``likedVideos(among:userID:)`` throws ``LikeStoreError/videoNotFound`` for a video the user
/// cannot see (``Visibility``: unknown, deleted, removed, its owner suspended, or a block between the two).
protocol LikeStore: Sendable {
    /// The video's like count after `userID` likes it.
    func like(videoID: UUID, userID: UUID) async throws -> Int
    /// The video's like count after `userID` no longer likes it.
    func unlike(videoID: UUID, userID: UUID) async throws -> Int
    /// Whether `userID` likes the video.
    func isLiked(videoID: UUID, userID: UUID) async throws -> Bool
    /// Which of `videoIDs` name videos `userID` can see and likes: one statement, served by the likes primary key.
    func likedVideos(among videoIDs: [UUID], userID: UUID) async throws -> Set<UUID>
}

struct SQLLikeStore: LikeStore {
    let database: Database

    private var dialect: SQLDialectKind { self.database.dialect }

    private var likes: UserVideoTable { UserVideoTable(name: "likes", dialect: self.dialect) }

    func like(videoID: UUID, userID: UUID) async throws -> Int {
        try await self.database.transaction { connection in
            // Serialised with block creation: a like of a video the user cannot see inserts nothing.
            let inserted = try await self.likes.insertIfVisible(userID: userID, videoID: videoID, on: connection)
            guard inserted else { return try await self.likeCount(videoID: videoID, viewer: userID, on: connection) }
            let (count, ownerID) = try await self.moveLikeCount(by: 1, videoID: videoID, on: connection)
            // The owner hears of the first like of this liker only: a like after an unlike finds the notification's key.
            try await NotificationWriter(dialect: self.dialect).write(
                NewNotification(recipientID: ownerID, kind: .like, actorID: userID, videoID: videoID), on: connection)
            return count
        }
    }

    func unlike(videoID: UUID, userID: UUID) async throws -> Int {
        try await self.database.transaction { connection in
            // A video the user cannot see is no video: its likes stay as they were, and the answer is a 404.
            let removed = try await connection.raw(
                """
                DELETE FROM likes WHERE user_id = \(bind: userID) AND video_id = \(bind: videoID)
                  AND EXISTS (SELECT 1 FROM \(Visibility(viewer: userID).videoSource(id: videoID)))
                RETURNING video_id
                """
            ).first()
            guard removed != nil else { return try await self.likeCount(videoID: videoID, viewer: userID, on: connection) }
            return try await self.moveLikeCount(by: -1, videoID: videoID, on: connection).count
        }
    }

    func isLiked(videoID: UUID, userID: UUID) async throws -> Bool {
        let liked = try await self.database.sql.raw(
            """
            SELECT EXISTS (SELECT 1 FROM likes WHERE likes.user_id = \(bind: userID) AND likes.video_id = videos.id) AS is_liked
            FROM \(Visibility(viewer: userID).videoSource(id: videoID))
            """
        ).first(decodingColumn: "is_liked", as: Bool.self)
        guard let liked else { throw LikeStoreError.videoNotFound }
        return liked
    }

    func likedVideos(among videoIDs: [UUID], userID: UUID) async throws -> Set<UUID> {
        try await self.likes.visibleVideos(among: videoIDs, userID: userID, on: self.database.sql)
    }

    /// The like count of a video `viewer` can see; throws ``LikeStoreError/videoNotFound`` for any other.
    private func likeCount(videoID: UUID, viewer: UUID, on connection: any SQLDatabase) async throws -> Int {
        let count = try await connection.raw("SELECT videos.like_count FROM " + Visibility(viewer: viewer).videoSource(id: videoID))
            .first(decodingColumn: "like_count", as: Int.self)
        guard let count else { throw LikeStoreError.videoNotFound }
        return count
    }

    /// The video's like count after the move, and its owner.
    private struct MovedCount: Decodable {
        var likeCount: Int
        var userID: UUID
        enum CodingKeys: String, CodingKey {
            case likeCount = "like_count"
            case userID = "user_id"
        }
    }

    private func moveLikeCount(by delta: Int, videoID: UUID, on connection: any SQLDatabase) async throws -> (count: Int, ownerID: UUID) {
        let moved = try await connection.raw(
            "UPDATE videos SET like_count = like_count + \(bind: delta) WHERE id = \(bind: videoID) RETURNING like_count, user_id"
        ).first(decoding: MovedCount.self)
        guard let moved else { throw LikeStoreError.videoNotFound }
        return (moved.likeCount, moved.userID)
    }
}
