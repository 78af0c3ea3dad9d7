import Foundation
import SQLKit

/// What one caller may see (API.md Conventions, "Visibility"), written once as SQL conditions that every query
/// splices into its `WHERE`, so that filtering happens in the statement and a page still holds `limit` rows.
///
/// A video is unseen when it is deleted, removed by a moderator, owned by a suspended user, or when a block stands
/// in either direction between the viewer and its owner. A user is unseen when suspended or blocked either way.
/// The viewer's blocks, both ways, are read once per statement (two uncorrelated `NOT IN` sets, which both databases
/// build once and probe in memory), so a page stays one statement and its rows cost no block lookups of their own.
struct Visibility: Sendable {
    /// The signed-in caller, or `nil` for an anonymous one (who sees everything not deleted, removed or suspended).
    let viewer: UUID?

    /// What everyone may see, whoever asks.
    static let anyone = Visibility(viewer: nil)

    /// True when the row of `videos` (under the name `video`), joined with its owner's `users` row (under the name
    /// `owner`), is a video the viewer can see. Keeps the feeds' partial indexes usable: both of their conditions
    /// are stated as they are written in the index.
    func video(_ video: String = "videos", owner: String = "users") -> SQLQueryString {
        "\(ident: video).deleted_at IS NULL AND \(ident: video).removed_at IS NULL AND " + self.user(owner)
    }

    /// True when the `users` row under the name `user` is a user the viewer can see.
    func user(_ user: String = "users") -> SQLQueryString {
        let unsuspended: SQLQueryString = "\(ident: user).suspended_at IS NULL"
        guard let viewer else { return unsuspended }
        return unsuspended + " AND " + Self.unblocked("\(ident: user).id", viewer: viewer)
    }

    /// True when no block stands between `viewer` and the user whose id is `user`, in either direction.
    ///
    /// Written as two sets that do not depend on the row: PostgreSQL hashes each once per statement (a hashed
    /// SubPlan), SQLite builds each once as a temporary index. The correlated `NOT EXISTS` of ``noBlock(between:and:)``
    /// ran two scans per row instead: for an empty `blocks` table they still cost the likes check-batch's statement
    /// 30 % of its rate (pgbench, peer-bench data: 7,300 statements/s against 9,400). `blocks` has no `NULL` ids, so
    /// `NOT IN` means what `NOT EXISTS` did.
    static func unblocked(_ user: SQLQueryString, viewer: UUID) -> SQLQueryString {
        """
        \(user) NOT IN (SELECT blocks.blocked_id FROM blocks WHERE blocks.blocker_id = \(bind: viewer)) \
        AND \(user) NOT IN (SELECT blocks.blocker_id FROM blocks WHERE blocks.blocked_id = \(bind: viewer))
        """
    }

    /// True when no block stands between the two users in either direction.
    static func noBlock(between first: SQLQueryString, and second: SQLQueryString) -> SQLQueryString {
        """
        NOT EXISTS (SELECT 1 FROM blocks WHERE blocks.blocker_id = \(first) AND blocks.blocked_id = \(second)) \
        AND NOT EXISTS (SELECT 1 FROM blocks WHERE blocks.blocker_id = \(second) AND blocks.blocked_id = \(first))
        """
    }

    /// Serialises a write between two users with the creation of a block between them, inside the write's
    /// transaction: afterwards, a block either committed before (and the write's next statement sees it in its
    /// ``noBlock(between:and:)`` condition) or waits until the write commits (and then undoes what it must).
    /// `first` and `second` are SQL expressions of the two user ids, a bind or a scalar subquery (a video's owner).
    ///
    /// On PostgreSQL this locks both users' rows in the order of their ids: ``RowLock/exclusive`` when creating the
    /// block, ``RowLock/keyShare`` for a follow, like, bookmark or effect job, which therefore never wait for each other.
    /// On SQLite it runs nothing: the write transaction already holds the database's one write lock.
    static func serialise(
        _ first: SQLQueryString, _ second: SQLQueryString, _ lock: RowLock, on connection: any SQLDatabase, dialect: SQLDialectKind
    ) async throws {
        let rows: SQLQueryString = "SELECT id FROM users WHERE id IN (\(first), \(second)) ORDER BY id"
        guard let statement = dialect.locking(rows, lock) else { return }
        try await connection.raw(statement).run()
    }

    /// ``serialise(_:_:_:on:dialect:)`` between a user and the owner of a video.
    static func serialise(_ user: UUID, ownerOf video: UUID, on connection: any SQLDatabase, dialect: SQLDialectKind) async throws {
        try await Self.serialise(
            "\(bind: user)", "(SELECT user_id FROM videos WHERE id = \(bind: video))", .keyShare, on: connection, dialect: dialect)
    }

    /// The visible video with this id, as the source of an `INSERT … SELECT` or an existence check: `videos` joined
    /// with its owner as `users`, filtered by ``video(_:owner:)``.
    func videoSource(id: UUID) -> SQLQueryString {
        "videos JOIN users ON users.id = videos.user_id WHERE videos.id = \(bind: id) AND " + self.video()
    }
}
