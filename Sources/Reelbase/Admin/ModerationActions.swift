import Foundation
import SQLKit

/// The signed-in moderator or admin doing a moderation action, with the role read for this request.
struct Moderator: Sendable, Equatable {
    var id: UUID
    var role: UserRole
}

extension AppRequestContext {
    /// The caller, if a moderator or an admin; else `401`/`403` as ``requireRole(_:)`` says.
    func requireModerator() throws -> Moderator {
        let id = try self.requireRole(.moderator)
        return Moderator(id: id, role: self.role ?? .moderator)
    }
}

/// Why a moderation action was refused; nothing was written.
enum ModerationError: Error, Sendable, Equatable {
    case userNotFound
    case videoNotFound
    /// A moderator acting on a moderator or admin, or an admin on themselves.
    case notAllowed
    /// The suspension would leave no unsuspended admin.
    case lastAdmin
}

/// A user's suspension as it stands after an action.
struct Suspension: Sendable, Equatable {
    var userID: UUID
    var reason: String?
    var suspendedAt: Date?
}

/// The moderation actions, each run on the caller's transaction and recorded in the moderation log there: the
/// resolution of a report and the stand-alone endpoints share them, so a suspension or a removal is the same
/// change whichever way it comes.
struct ModerationActions: Sendable {
    let dialect: SQLDialectKind

    private var log: ModerationLog { ModerationLog(dialect: self.dialect) }

    /// The account a suspension reads and changes.
    private struct Account: Decodable {
        var id: UUID
        var role: UserRole
        var suspendedAt: Date?
        var suspensionReason: String?

        enum CodingKeys: String, CodingKey {
            case id, role
            case suspendedAt = "suspended_at"
            case suspensionReason = "suspension_reason"
        }

        var suspension: Suspension { Suspension(userID: self.id, reason: self.suspensionReason, suspendedAt: self.suspendedAt) }
    }

    /// Suspends `userID`; a repeat keeps the first reason and time and records nothing. A moderator may suspend
    /// only role `user`, an admin anyone but themselves; the last unsuspended admin never.
    func suspend(_ userID: UUID, reason: String, by moderator: Moderator, on connection: any SQLDatabase) async throws -> Suspension {
        // Admins first, in the order every admin-removing change takes them (``SQLRoleStore``), so that two admins
        // suspending each other at once cannot both succeed.
        let admins = try await SQLRoleStore.lockActiveAdmins(on: connection, dialect: self.dialect)
        let account = try await self.lockedAccount(userID, by: moderator, on: connection)
        if account.suspendedAt != nil { return account.suspension }
        if admins == [account.id] { throw ModerationError.lastAdmin }
        guard
            let suspended = try await connection.raw(
                """
                UPDATE users SET suspended_at = \(self.dialect.now), suspension_reason = \(bind: reason)
                WHERE id = \(bind: userID) RETURNING id, role, suspended_at, suspension_reason
                """
            ).first(decoding: Account.self)
        else { throw UnexpectedRow("the user \(userID.lowercased) just locked is missing") }
        try await self.log.record(
            .init(actorID: moderator.id, action: .suspendUser, targetType: .user, targetID: userID, note: reason), on: connection)
        // Open event streams end at suspension, on every instance, once this commits.
        try await EventOutbox(dialect: self.dialect).append(.close, payload: StreamClosure.account, for: userID, on: connection)
        return suspended.suspension
    }

    /// Lifts a suspension (the same permissions as suspending); a user not suspended stays so and nothing is recorded.
    func unsuspend(_ userID: UUID, by moderator: Moderator, on connection: any SQLDatabase) async throws -> Suspension {
        let account = try await self.lockedAccount(userID, by: moderator, on: connection)
        guard account.suspendedAt != nil else { return account.suspension }
        try await connection.raw("UPDATE users SET suspended_at = NULL, suspension_reason = NULL WHERE id = \(bind: userID)").run()
        try await self.log.record(
            .init(actorID: moderator.id, action: .unsuspendUser, targetType: .user, targetID: userID, note: account.suspensionReason),
            on: connection)
        return Suspension(userID: userID, reason: nil, suspendedAt: nil)
    }

    /// The account, locked, if `moderator` may change its suspension.
    private func lockedAccount(_ userID: UUID, by moderator: Moderator, on connection: any SQLDatabase) async throws -> Account {
        guard
            let account = try await connection.raw(
                "SELECT id, role, suspended_at, suspension_reason FROM users WHERE id = \(bind: userID)\(self.dialect.forUpdate)"
            ).first(decoding: Account.self)
        else { throw ModerationError.userNotFound }
        let allowed = moderator.role == .admin ? account.id != moderator.id : account.role == .user
        guard allowed else { throw ModerationError.notAllowed }
        return account
    }

    /// The video's owner and whether it is deleted or removed, locked.
    private struct VideoState: Decodable {
        var userID: UUID
        var deletedAt: Date?
        var removedAt: Date?

        enum CodingKeys: String, CodingKey {
            case userID = "user_id"
            case deletedAt = "deleted_at"
            case removedAt = "removed_at"
        }
    }

    private func lockedVideo(_ videoID: UUID, on connection: any SQLDatabase) async throws -> VideoState {
        guard
            let video = try await connection.raw(
                "SELECT user_id, deleted_at, removed_at FROM videos WHERE id = \(bind: videoID)\(self.dialect.forUpdate)"
            ).first(decoding: VideoState.self)
        else { throw ModerationError.videoNotFound }
        return video
    }

    /// The owner of a video, deleted and removed ones too.
    func owner(ofVideo videoID: UUID, on connection: any SQLDatabase) async throws -> UUID {
        try await self.lockedVideo(videoID, on: connection).userID
    }

    /// Hides the video from everyone, its owner included (it leaves the owner's `video_count`); likes and bookmarks
    /// stay. Removing a removed video changes and records nothing.
    func removeVideo(_ videoID: UUID, note: String?, by moderator: Moderator, on connection: any SQLDatabase) async throws {
        let video = try await self.lockedVideo(videoID, on: connection)
        guard video.removedAt == nil else { return }
        try await connection.raw("UPDATE videos SET removed_at = \(self.dialect.now) WHERE id = \(bind: videoID)").run()
        if video.deletedAt == nil {
            try await connection.raw("UPDATE users SET video_count = video_count - 1 WHERE id = \(bind: video.userID)").run()
        }
        try await self.log.record(
            .init(actorID: moderator.id, action: .removeVideo, targetType: .video, targetID: videoID, note: note), on: connection)
        try await NotificationWriter(dialect: self.dialect).write(
            NewNotification(recipientID: video.userID, kind: .videoRemoved, videoID: videoID), on: connection)
    }

    /// Undoes ``removeVideo(_:note:by:on:)``; a deleted video stays gone (``ModerationError/videoNotFound``), one not
    /// removed is left as it is.
    func restoreVideo(_ videoID: UUID, by moderator: Moderator, on connection: any SQLDatabase) async throws {
        let video = try await self.lockedVideo(videoID, on: connection)
        guard video.deletedAt == nil else { throw ModerationError.videoNotFound }
        guard video.removedAt != nil else { return }
        try await connection.raw("UPDATE videos SET removed_at = NULL WHERE id = \(bind: videoID)").run()
        try await connection.raw("UPDATE users SET video_count = video_count + 1 WHERE id = \(bind: video.userID)").run()
        try await self.log.record(
            .init(actorID: moderator.id, action: .restoreVideo, targetType: .video, targetID: videoID, note: nil), on: connection)
    }
}
