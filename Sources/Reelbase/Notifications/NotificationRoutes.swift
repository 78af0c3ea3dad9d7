import Foundation
import Hummingbird

/// `/v1/notifications`: the list, the unread count, and the two ways of marking them read.
struct NotificationRoutes {
    let notifications: any NotificationStore
    let cursors: FeedCursor.Codec

    /// API.md: the count is exact up to this, then this.
    static let unreadCountCap = 1000

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        BatchCheck<ReadNotifications> { [notifications] ids, me in try await notifications.markRead(ids, recipientID: me) }
            .addRoute(to: group)
        group.get("", use: self.list)
        group.get("unread-count", use: self.unreadCount)
        group.post("read-all", use: self.readAll)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<NotificationView> {
        let me = try context.requireUser()
        let unreadOnly = try Self.unreadFilter(request)
        // The list's name holds the caller and the filter: a cursor belongs to one user's list under one filter.
        let list = "notifications/\(me.lowercased)/\(unreadOnly ? "unread" : "all")"
        return try await CursorPageResponse("notifications", request: request, list: list, cursors: self.cursors) { page in
            try await self.notifications.list(recipientID: me, unreadOnly: unreadOnly, after: page.after, limit: page.limit)
        } item: { $0.view }
    }

    /// `?unread=true` keeps the unread ones; `false`, empty or absent lists all; anything else is a `422`.
    static func unreadFilter(_ request: Request) throws -> Bool {
        guard let text = request.uri.queryParameters.get("unread"), !text.isEmpty else { return false }
        switch text {
        case "true": return true
        case "false": return false
        default: throw Problem.validation(field: "unread", "Must be true or false.")
        }
    }

    @Sendable func unreadCount(_ request: Request, context: AppRequestContext) async throws -> UnreadCountResponse {
        let me = try context.requireUser()
        return UnreadCountResponse(count: try await self.notifications.unreadCount(recipientID: me, cap: Self.unreadCountCap))
    }

    private struct ReadAllRequest: Decodable {
        var upTo: String?
        enum CodingKeys: String, CodingKey { case upTo = "up_to" }
    }

    @Sendable func readAll(_ request: Request, context: AppRequestContext) async throws -> ReadAllResponse {
        // Taken first: nothing created after the request arrived is marked, whatever the body.
        let watermark = Date()
        let me = try context.requireUser()
        let body = try await request.decodeJSONIfPresent(as: ReadAllRequest.self, context: context)
        var upTo: UUID?
        if let text = body?.upTo {
            guard let id = UUID(text: text) else {
                throw Problem.validation(field: "up_to", "Must be a notification id (a UUID), not \(FieldError.quoting(text)).")
            }
            upTo = id
        }
        return ReadAllResponse(updated: try await self.notifications.markAllRead(recipientID: me, upTo: upTo, watermark: watermark))
    }
}

/// `POST /v1/notifications/read-batch`: the batch checks' rules (1-100 ids, each answered once, one statement) around
/// an update.
enum ReadNotifications: BatchCheckKind {
    static let spec = BatchCheckSpec(
        path: "/v1/notifications/read-batch", ids: "notification_ids", answer: "read_notifications", tag: "Notifications",
        summary: "Mark 1-100 of the caller's notifications read, in one statement (others' or unknown ids answer false)")
}

extension NotificationError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .notFound: Problem.notFound("Notification")
        }
    }
}
