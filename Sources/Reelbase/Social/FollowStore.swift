import Foundation
import SQLKit

enum FollowStoreError: Error, Sendable, Equatable {
    /// No user has this id.
    case userNotFound
    /// Following or unfollowing oneself.
    case cannotFollowSelf
}

/// Who follows whom, and the `follower_count` / `following_count` of both users, which change only in the
/// transaction that adds or removes the follow row (see ``LikeStore`` for the pattern). Both counters move in
/// one `UPDATE`, so two users following each other at once lock their rows in the same order.
///
/// The methods naming one user throw ``FollowStoreError/userNotFound`` if no user has this id or the follower cannot
/// see them (``Visibility``: suspended, or a block either way); following and
/// unfollowing throw ``FollowStoreError/cannotFollowSelf`` if the user is the follower, before anything is read.
protocol FollowStore: Sendable {
    /// The followed user's follower count after `followerID` follows them.
    func follow(userID: UUID, followerID: UUID) async throws -> Int
    /// The user's follower count after `followerID` no longer follows them.
    func unfollow(userID: UUID, followerID: UUID) async throws -> Int
    /// Whether `followerID` follows the user.
    func isFollowing(userID: UUID, followerID: UUID) async throws -> Bool
    /// Which of `userIDs` `followerID` follows: one statement, served by the follows primary key.
    func followedUsers(among userIDs: [UUID], followerID: UUID) async throws -> Set<UUID>
    /// The users on one side of `userID`'s follows, most recently followed first.
    func list(_ direction: FollowDirection, of userID: UUID, after: FeedCursor?, limit: Int, viewer: UUID?) async throws
        -> Page<FollowListEntry>
}

/// `followers`: who follows the user; `following`: whom the user follows.
enum FollowDirection: String, Sendable {
    case followers
    case following

    /// The column naming the user whose list it is, and the column naming the users listed.
    var columns: (owner: String, listed: String) {
        switch self {
        case .followers: ("following_id", "follower_id")
        case .following: ("follower_id", "following_id")
        }
    }
}

struct SQLFollowStore: FollowStore {
    let database: Database

    private var dialect: SQLDialectKind { self.database.dialect }

    func follow(userID: UUID, followerID: UUID) async throws -> Int {
        guard userID != followerID else { throw FollowStoreError.cannotFollowSelf }
        return try await self.database.transaction { connection in
            // After this, a block between the two either committed already (and the insert sees it) or waits for
            // this follow to commit, and then removes it.
            try await Visibility.serialise("\(bind: followerID)", "\(bind: userID)", .counterUpdate, on: connection, dialect: self.dialect)
            let inserted = try await connection.raw(
                """
                INSERT INTO follows (follower_id, following_id, created_at)
                SELECT \(bind: followerID), users.id, \(self.dialect.now) FROM users
                WHERE users.id = \(bind: userID) AND \(Visibility(viewer: followerID).user())
                ON CONFLICT DO NOTHING
                RETURNING following_id
                """
            ).first()
            guard inserted != nil else { return try await self.followerCount(userID: userID, viewer: followerID, on: connection) }
            let count = try await self.moveCounters(by: 1, userID: userID, followerID: followerID, on: connection)
            // Once per pair, ever: a refollow finds the notification's key.
            try await NotificationWriter(dialect: self.dialect).write(
                NewNotification(recipientID: userID, kind: .follow, actorID: followerID), on: connection)
            return count
        }
    }

    func unfollow(userID: UUID, followerID: UUID) async throws -> Int {
        guard userID != followerID else { throw FollowStoreError.cannotFollowSelf }
        return try await self.database.transaction { connection in
            try await Visibility.serialise("\(bind: followerID)", "\(bind: userID)", .counterUpdate, on: connection, dialect: self.dialect)
            // A user the follower cannot see is no user: nothing is removed, and the answer is a 404.
            let removed = try await connection.raw(
                """
                DELETE FROM follows WHERE follower_id = \(bind: followerID) AND following_id = \(bind: userID)
                  AND EXISTS (SELECT 1 FROM users WHERE users.id = \(bind: userID) AND \(Visibility(viewer: followerID).user()))
                RETURNING following_id
                """
            ).first()
            guard removed != nil else { return try await self.followerCount(userID: userID, viewer: followerID, on: connection) }
            return try await self.moveCounters(by: -1, userID: userID, followerID: followerID, on: connection)
        }
    }

    func isFollowing(userID: UUID, followerID: UUID) async throws -> Bool {
        let following = try await self.database.sql.raw(
            """
            SELECT EXISTS (SELECT 1 FROM follows WHERE follower_id = \(bind: followerID) AND following_id = users.id) AS is_following
            FROM users WHERE users.id = \(bind: userID) AND \(Visibility(viewer: followerID).user())
            """
        ).first(decodingColumn: "is_following", as: Bool.self)
        guard let following else { throw FollowStoreError.userNotFound }
        return following
    }

    func followedUsers(among userIDs: [UUID], followerID: UUID) async throws -> Set<UUID> {
        // The order is a planner hint, not for the caller: `follows_following` also leads with `follower_id`, and
        // for a user with few follows Postgres 15 rated both indexes equal and took that one; only the primary
        // key yields this order, so the check probes the primary key for light and heavy users alike.
        // A user the follower cannot see answers `false`. Of `Visibility`'s conditions only suspension can hold for a
        // followed user: no follow outlives a block between the two (the block removes it, serialised with follows).
        let followed = try await self.database.sql.raw(
            """
            SELECT follows.following_id FROM follows JOIN users ON users.id = follows.following_id
            WHERE follows.follower_id = \(bind: followerID) AND \(self.dialect.column("follows.following_id", isIn: userIDs))
              AND \(Visibility.anyone.user())
            ORDER BY follows.following_id
            """
        ).all(decodingColumn: "following_id", as: UUID.self)
        return Set(followed)
    }

    func list(_ direction: FollowDirection, of userID: UUID, after: FeedCursor?, limit: Int, viewer: UUID?) async throws
        -> Page<FollowListEntry>
    {
        let (owner, listed) = direction.columns
        var columns = UserRecord.columns + ", \(self.dialect.exactInstant("follows.created_at")) AS sort_key"
        if let viewer { columns = columns + ", " + FollowViewerState.columns(viewer: viewer) }
        var query: SQLQueryString = "SELECT " + columns + """
             FROM follows JOIN users ON users.id = follows.\(ident: listed)
            WHERE follows.\(ident: owner) = \(bind: userID) AND \(Visibility(viewer: viewer).user())
            """
        if let after {
            query = query + " AND (follows.created_at, follows.\(ident: listed)) < (\(self.dialect.instant(exact: after.instant)), \(bind: after.id))"
        }
        query = query + " ORDER BY follows.created_at DESC, follows.\(ident: listed) DESC \(limit: limit + 1)"
        let rows = try await self.database.sql.raw(query).all(reading: FollowListEntry.self)
        return Page(rows: rows, limit: limit, key: \.cursor)
    }

    /// The follower count of a user `viewer` can see; throws ``FollowStoreError/userNotFound`` for any other.
    private func followerCount(userID: UUID, viewer: UUID, on connection: any SQLDatabase) async throws -> Int {
        let count = try await connection.raw(
            "SELECT follower_count FROM users WHERE users.id = \(bind: userID) AND " + Visibility(viewer: viewer).user()
        ).first(decodingColumn: "follower_count", as: Int.self)
        guard let count else { throw FollowStoreError.userNotFound }
        return count
    }

    /// A user's id and follower count, as ``moveCounters(by:userID:followerID:on:)`` returns them.
    private struct FollowerCount: Decodable {
        var id: UUID
        var followerCount: Int

        enum CodingKeys: String, CodingKey {
            case id
            case followerCount = "follower_count"
        }
    }

    /// Moves the followed user's `follower_count` and the follower's `following_count` in one statement.
    private func moveCounters(by delta: Int, userID: UUID, followerID: UUID, on connection: any SQLDatabase) async throws -> Int {
        let counts = try await connection.raw(
            """
            UPDATE users SET
                follower_count = follower_count + CASE WHEN id = \(bind: userID) THEN \(bind: delta) ELSE 0 END,
                following_count = following_count + CASE WHEN id = \(bind: followerID) THEN \(bind: delta) ELSE 0 END
            WHERE \(self.dialect.column("id", isIn: [userID, followerID]))
            RETURNING id, follower_count
            """
        ).all(decoding: FollowerCount.self)
        guard let count = counts.first(where: { $0.id == userID }) else { throw FollowStoreError.userNotFound }
        return count.followerCount
    }
}

extension FollowViewerState {
    /// The viewer's state towards the `users` row of a list's query, as columns: two primary-key probes per row, so
    /// a page costs one statement whatever its length.
    static func columns(viewer: UUID) -> SQLQueryString {
        """
        EXISTS (SELECT 1 FROM follows AS mine WHERE mine.follower_id = \(bind: viewer) AND mine.following_id = users.id) AS is_following,
        EXISTS (SELECT 1 FROM follows AS theirs WHERE theirs.follower_id = users.id AND theirs.following_id = \(bind: viewer)) AS follows_you
        """
    }

    /// The state a row read with ``columns(viewer:)`` holds, `nil` for a row read without (an anonymous caller).
    static func readIfPresent(from row: any SQLRow) throws -> FollowViewerState? {
        guard row.contains(column: CodingKeys.isFollowing.rawValue) else { return nil }
        return FollowViewerState(
            isFollowing: try row.decode(column: CodingKeys.isFollowing.rawValue, as: Bool.self),
            followsYou: try row.decode(column: CodingKeys.followsYou.rawValue, as: Bool.self))
    }
}
