import Foundation
import SQLKit

/// What the moderation log records (`moderation_log.action`).
enum ModerationAction: String, Sendable {
    case setRole = "set_role"
    case grantCredits = "grant_credits"
    /// Every open report on one target resolved at once; the note names the resolution and how many reports.
    case resolveReports = "resolve_reports"
    case removeVideo = "remove_video"
    case restoreVideo = "restore_video"
    case suspendUser = "suspend_user"
    case unsuspendUser = "unsuspend_user"
    case createPromoCode = "create_promo_code"
    /// Also ending a leaked code early.
    case setPromoCodeExpiry = "set_promo_code_expiry"
}

/// The kinds of things a moderation action is done to (`moderation_log.target_type`).
enum ModerationTarget: String, Sendable {
    case user
    case video
    case promoCode = "promo_code"
}

/// The append-only record of what admins, moderators and operators did (API.md, "Roles, moderation and admin").
/// Rows are written in the transaction of the change they record, so neither exists without the other; the table's
/// triggers refuse updates and deletes.
struct ModerationLog: Sendable {
    let dialect: SQLDialectKind

    /// One action. `actorID` is `nil` for the operator's command line.
    struct Entry: Sendable {
        var actorID: UUID?
        var action: ModerationAction
        var targetType: ModerationTarget
        var targetID: UUID
        var note: String?
    }

    func record(_ entry: Entry, on connection: any SQLDatabase) async throws {
        try await connection.raw(
            """
            INSERT INTO moderation_log (id, actor_id, action, target_type, target_id, note, created_at)
            VALUES (\(bind: UUID()), \(bind: entry.actorID), \(bind: entry.action.rawValue), \(bind: entry.targetType.rawValue),
                    \(bind: entry.targetID.lowercased), \(bind: entry.note), \(self.dialect.now))
            """
        ).run()
    }
}
