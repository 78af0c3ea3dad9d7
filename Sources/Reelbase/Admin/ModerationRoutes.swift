import Foundation
import Hummingbird

/// `/v1/admin` for moderators (admins too): the reports queue and its resolutions, removals and suspensions, the
/// account list, effect-job counts and the moderation log.
struct ModerationRoutes {
    let reports: any ReportStore
    let moderation: any ModerationStore
    let videos: any VideoStore
    let jobs: EffectJobStore
    let cursors: FeedCursor.Codec

    struct SuspendRequest: Decodable {
        var reason: String
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("reports", use: self.queue)
        group.post("reports/:report_id/resolve", use: self.resolve)
        group.post("videos/:video_id/restore", use: self.restore)
        group.post("users/:user_id/suspend", use: self.suspend)
        group.post("users/:user_id/unsuspend", use: self.unsuspend)
        group.get("users", use: self.accounts)
        group.get("effect-jobs/counts", use: self.jobCounts)
        group.get("moderation-log", use: self.log)
    }

    @Sendable func queue(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<QueuedReportRecord> {
        _ = try context.requireModerator()
        let query = request.uri.queryParameters
        var validator = Validator()
        var filter = ReportQueueFilter()
        filter.status = validator.choice(query.get("status"), "status", as: ReportStatus.self) ?? filter.status
        filter.targetType = validator.choice(query.get("target_type"), "target_type", as: ReportTargetType.self)
        try validator.validate()
        // A cursor belongs to its filter: carried to another, it would start at a position that list never had.
        let list = "admin/reports?status=\(filter.status.rawValue)&target_type=\(filter.targetType?.rawValue ?? "")"
        let page = try PageRequest(request, list: list, cursors: self.cursors)
        let result = try await self.reports.queue(filter, after: page.after, limit: page.limit)
        return CursorPageResponse(
            "reports", items: result.items, nextCursor: result.next.map { self.cursors.encode($0, list: list) })
    }

    @Sendable func resolve(_ request: Request, context: AppRequestContext) async throws -> ReportRecord {
        let moderator = try context.requireModerator()
        let reportID = try context.parameters.uuid("report_id", resource: "Report")
        let (action, note) = try await request.decodeJSON(as: ResolveReportRequest.self, context: context).validated()
        let report = try await self.reports.resolve(reportID: reportID, action: action, note: note, by: moderator)
        context.logger.notice(
            "reports resolved",
            metadata: ["target": .string(report.targetID.lowercased), "resolution": .string(action.resolution.rawValue)])
        return report
    }

    @Sendable func restore(_ request: Request, context: AppRequestContext) async throws -> VideoResponse {
        let moderator = try context.requireModerator()
        let videoID = try context.parameters.uuid("video_id", resource: "Video")
        try await self.moderation.restore(videoID: videoID, by: moderator)
        context.logger.notice("video restored", metadata: ["video_id": .string(videoID.lowercased)])
        // As the moderator sees it; a video restored but still hidden from them (its owner suspended, a block) is
        // answered as for anyone else: `404`, its restoration done.
        guard let video = try await self.videos.find(id: videoID, viewer: moderator.id) else { throw Problem.notFound("Video") }
        return video.response
    }

    @Sendable func suspend(_ request: Request, context: AppRequestContext) async throws -> SuspensionResponse {
        let moderator = try context.requireModerator()
        let userID = try context.parameters.uuid("user_id", resource: "User")
        let body = try await request.decodeJSON(as: SuspendRequest.self, context: context)
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        var validator = Validator()
        validator.checkLength(reason, 1...500, "reason", "Must be 1 to 500 characters.")
        try validator.validate()
        let suspension = try await self.moderation.suspend(userID, reason: reason, by: moderator)
        context.logger.notice("user suspended", metadata: ["target": .string(userID.lowercased)])
        return SuspensionResponse(suspension)
    }

    @Sendable func unsuspend(_ request: Request, context: AppRequestContext) async throws -> SuspensionResponse {
        let moderator = try context.requireModerator()
        let userID = try context.parameters.uuid("user_id", resource: "User")
        let suspension = try await self.moderation.unsuspend(userID, by: moderator)
        context.logger.notice("user unsuspended", metadata: ["target": .string(userID.lowercased)])
        return SuspensionResponse(suspension)
    }

    @Sendable func accounts(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<AccountResponse> {
        _ = try context.requireModerator()
        let query = request.uri.queryParameters
        var validator = Validator()
        var filter = AccountFilter()
        if let text = query.get("q"), !text.isEmpty {
            validator.checkLength(text, 1...254, "q", "Must be at most 254 characters.")
            filter.prefix = text.lowercased()
        }
        filter.role = validator.choice(query.get("role"), "role", as: UserRole.self)
        if let text = query.get("suspended"), !text.isEmpty {
            filter.suspended = text == "true" ? true : text == "false" ? false : nil
            validator.check(filter.suspended != nil, "suspended", "Must be true or false.")
        }
        try validator.validate()
        let list = "admin/users?q=\(filter.prefix ?? "")&role=\(filter.role?.rawValue ?? "")&suspended=\(filter.suspended.map { $0 ? "true" : "false" } ?? "")"
        let page = try PageRequest(request, list: list, cursors: self.cursors)
        let result = try await self.moderation.accounts(filter, after: page.after, limit: page.limit)
        return CursorPageResponse(
            "users", items: result.items.map(AccountResponse.init), nextCursor: result.next.map { self.cursors.encode($0, list: list) })
    }

    @Sendable func jobCounts(_ request: Request, context: AppRequestContext) async throws -> EffectJobCounts {
        _ = try context.requireModerator()
        return EffectJobCounts(try await self.jobs.countsByStatus())
    }

    @Sendable func log(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<ModerationLogEntryResponse> {
        _ = try context.requireModerator()
        let page = try PageRequest(request, list: "admin/moderation-log", cursors: self.cursors)
        let result = try await self.moderation.log(after: page.after, limit: page.limit)
        return CursorPageResponse(
            "entries", items: result.items.map(ModerationLogEntryResponse.init),
            nextCursor: result.next.map { self.cursors.encode($0, list: "admin/moderation-log") })
    }
}

/// `{user_id, suspended, reason, suspended_at}`; `reason` and `suspended_at` are `null` when not suspended.
struct SuspensionResponse: ResponseEncodable, Sendable {
    var suspension: Suspension

    init(_ suspension: Suspension) { self.suspension = suspension }

    enum CodingKeys: String, CodingKey {
        case suspended, reason
        case userID = "user_id"
        case suspendedAt = "suspended_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.suspension.userID.lowercased, forKey: .userID)
        try container.encode(self.suspension.suspendedAt != nil, forKey: .suspended)
        try container.encode(self.suspension.reason, forKey: .reason)
        try container.encode(self.suspension.suspendedAt, forKey: .suspendedAt)
    }
}

/// An account in `GET /v1/admin/users`: `user` plus `email`, `role`, `suspended` and `suspended_at`.
struct AccountResponse: ResponseEncodable, Sendable {
    var record: AccountRecord

    init(_ record: AccountRecord) { self.record = record }

    enum CodingKeys: String, CodingKey {
        case email, role, suspended
        case suspendedAt = "suspended_at"
    }

    func encode(to encoder: any Encoder) throws {
        try self.record.user.profile.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.record.user.email, forKey: .email)
        try container.encode(self.record.user.role, forKey: .role)
        try container.encode(self.record.suspendedAt != nil, forKey: .suspended)
        try container.encode(self.record.suspendedAt, forKey: .suspendedAt)
    }
}

/// `{queued, running, succeeded, failed}`: every state, `0` when no job is in it.
struct EffectJobCounts: ResponseEncodable, Sendable {
    var queued: Int
    var running: Int
    var succeeded: Int
    var failed: Int

    init(_ counts: [JobStatus: Int]) {
        self.queued = counts[.queued] ?? 0
        self.running = counts[.running] ?? 0
        self.succeeded = counts[.succeeded] ?? 0
        self.failed = counts[.failed] ?? 0
    }
}

/// An entry of `GET /v1/admin/moderation-log`: `{id, actor: user|null, action, target_type, target_id, note, created_at}`.
struct ModerationLogEntryResponse: ResponseEncodable, Sendable {
    var record: ModerationLogRecord

    init(_ record: ModerationLogRecord) { self.record = record }

    enum CodingKeys: String, CodingKey {
        case id, actor, action, note
        case targetType = "target_type"
        case targetID = "target_id"
        case createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.record.id.lowercased, forKey: .id)
        try container.encode(self.record.actor?.profile, forKey: .actor)
        try container.encode(self.record.action, forKey: .action)
        try container.encode(self.record.targetType, forKey: .targetType)
        try container.encode(self.record.targetID, forKey: .targetID)
        try container.encode(self.record.note, forKey: .note)
        try container.encode(self.record.createdAt, forKey: .createdAt)
    }
}

extension Validator {
    /// A query parameter naming one case of `type`: `nil` when absent, else the case, or `nil` and an error (an empty
    /// value too: the document's enum does not list it, and a filter sent empty is more likely a client bug than a wish).
    mutating func choice<T: CaseIterable & RawRepresentable>(_ text: String?, _ field: String, as type: T.Type) -> T?
    where T.RawValue == String {
        guard let text else { return nil }
        let value = T(rawValue: text)
        self.check(value != nil, field, "Must be one of \(NewReportRequest.choices(T.self)).")
        return value
    }
}

extension ModerationError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .userNotFound: Problem.notFound("User")
        case .videoNotFound: Problem.notFound("Video")
        case .notAllowed: Problem.forbidden("A moderator may suspend only role user; an admin anyone but themselves.")
        case .lastAdmin: Problem.lastAdmin
        }
    }
}
