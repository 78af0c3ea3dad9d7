import Foundation
import SQLKit

enum BlockStoreError: Error, Sendable, Equatable {
    /// No user the blocker may block has this id: unknown or suspended.
    case userNotFound
    /// Blocking oneself.
    case cannotBlockSelf
}

/// Who blocks whom (API.md "Safety and collections"). A block is one direction, but hides each from the other while
/// it stands (``Visibility``). Creating one removes the follows between the two, both ways, with their counters, in
/// the same transaction, serialised with every follow, like, bookmark and effect job between them.
protocol BlockStore: Sendable {
    /// `blockerID` blocks the user (idempotent); throws ``BlockStoreError/cannotBlockSelf`` or
    /// ``BlockStoreError/userNotFound``.
    func block(userID: UUID, blockerID: UUID) async throws
    /// `blockerID` no longer blocks the user (idempotent, any id).
    func unblock(userID: UUID, blockerID: UUID) async throws
    /// Which of `userIDs` `blockerID` blocks (suspended users left out): one statement, served by the primary key.
    func blockedUsers(among userIDs: [UUID], blockerID: UUID) async throws -> Set<UUID>
    /// The users `blockerID` blocks, newest block first (suspended users left out).
    func list(blockerID: UUID, after: FeedCursor?, limit: Int) async throws -> Page<ListedUserRecord>
}

struct SQLBlockStore: BlockStore {
    let database: Database

    private var dialect: SQLDialectKind { self.database.dialect }

    func block(userID: UUID, blockerID: UUID) async throws {
        guard userID != blockerID else { throw BlockStoreError.cannotBlockSelf }
        try await self.database.transaction { connection in
            // Waits for every follow, like, bookmark or effect job between the two that is under way, and holds off
            // the next ones until the block is committed, when they see it.
            try await Visibility.serialise("\(bind: blockerID)", "\(bind: userID)", .exclusive, on: connection, dialect: self.dialect)
            let inserted = try await connection.raw(
                """
                INSERT INTO blocks (blocker_id, blocked_id, created_at)
                SELECT \(bind: blockerID), users.id, \(self.dialect.now) FROM users
                WHERE users.id = \(bind: userID) AND \(Visibility.anyone.user())
                ON CONFLICT DO NOTHING
                RETURNING blocked_id
                """
            ).first()
            guard inserted != nil else {
                // Already blocked (a repeat changes nothing: no follow can exist meanwhile), or no such user.
                let exists = try await connection.raw("SELECT users.id FROM users WHERE users.id = \(bind: userID) AND " + Visibility.anyone.user())
                    .first()
                guard exists != nil else { throw BlockStoreError.userNotFound }
                return
            }
            try await self.removeFollows(between: blockerID, and: userID, on: connection)
        }
    }

    /// A follow of the `follows` table, as ``removeFollows(between:and:on:)`` deletes it.
    private struct RemovedFollow: Decodable {
        var followerID: UUID

        enum CodingKeys: String, CodingKey { case followerID = "follower_id" }
    }

    /// Deletes the follows between the two users, both ways, and moves the four counters they held.
    private func removeFollows(between first: UUID, and second: UUID, on connection: any SQLDatabase) async throws {
        let removed = try await connection.raw(
            """
            DELETE FROM follows
            WHERE (follower_id = \(bind: first) AND following_id = \(bind: second))
               OR (follower_id = \(bind: second) AND following_id = \(bind: first))
            RETURNING follower_id
            """
        ).all(decoding: RemovedFollow.self)
        guard !removed.isEmpty else { return }
        // `firstFollowed`: the first user followed the second (so the first's `following_count` and the second's
        // `follower_count` drop), and the other way round.
        let firstFollowed = removed.contains { $0.followerID == first } ? 1 : 0
        let secondFollowed = removed.contains { $0.followerID == second } ? 1 : 0
        try await connection.raw(
            """
            UPDATE users SET
                following_count = following_count - CASE WHEN id = \(bind: first) THEN \(bind: firstFollowed) ELSE \(bind: secondFollowed) END,
                follower_count = follower_count - CASE WHEN id = \(bind: first) THEN \(bind: secondFollowed) ELSE \(bind: firstFollowed) END
            WHERE \(self.dialect.column("id", isIn: [first, second]))
            """
        ).run()
    }

    func unblock(userID: UUID, blockerID: UUID) async throws {
        try await self.database.sql.raw(
            "DELETE FROM blocks WHERE blocker_id = \(bind: blockerID) AND blocked_id = \(bind: userID)"
        ).run()
    }

    func blockedUsers(among userIDs: [UUID], blockerID: UUID) async throws -> Set<UUID> {
        let blocked = try await self.database.sql.raw(
            """
            SELECT blocks.blocked_id FROM blocks JOIN users ON users.id = blocks.blocked_id
            WHERE blocks.blocker_id = \(bind: blockerID) AND \(self.dialect.column("blocks.blocked_id", isIn: userIDs))
              AND \(Visibility.anyone.user())
            """
        ).all(decodingColumn: "blocked_id", as: UUID.self)
        return Set(blocked)
    }

    func list(blockerID: UUID, after: FeedCursor?, limit: Int) async throws -> Page<ListedUserRecord> {
        var query: SQLQueryString = """
            SELECT \(UserRecord.columns), \(self.dialect.exactInstant("blocks.created_at")) AS sort_key
            FROM blocks JOIN users ON users.id = blocks.blocked_id
            WHERE blocks.blocker_id = \(bind: blockerID) AND \(Visibility.anyone.user())
            """
        if let after {
            query = query + " AND (blocks.created_at, blocks.blocked_id) < (\(self.dialect.instant(exact: after.instant)), \(bind: after.id))"
        }
        query = query + " ORDER BY blocks.created_at DESC, blocks.blocked_id DESC \(limit: limit + 1)"
        let rows = try await self.database.sql.raw(query).all(reading: ListedUserRecord.self)
        return Page(rows: rows, limit: limit, key: \.cursor)
    }
}
