import Foundation
import Hummingbird
import SQLKit

/// What a report is about (`target_type`).
enum ReportTargetType: String, Codable, CaseIterable, Sendable {
    case video, user

    /// The same target in the moderation log's terms.
    var logged: ModerationTarget {
        switch self {
        case .video: .video
        case .user: .user
        }
    }
}

enum ReportCategory: String, Codable, CaseIterable, Sendable {
    case spam, harassment, sexual, violence, illegal, other
}

enum ReportStatus: String, Codable, CaseIterable, Sendable {
    case open, resolved
}

/// How a report was closed.
enum ReportResolution: String, Codable, CaseIterable, Sendable {
    case noAction = "no_action"
    case videoRemoved = "video_removed"
    case userSuspended = "user_suspended"
}

/// What a moderator does about a report (`action` of `POST /v1/admin/reports/{id}/resolve`).
enum ReportAction: String, CaseIterable, Sendable {
    case noAction = "no_action"
    case removeVideo = "remove_video"
    case suspendUser = "suspend_user"

    var resolution: ReportResolution {
        switch self {
        case .noAction: .noAction
        case .removeVideo: .videoRemoved
        case .suspendUser: .userSuspended
        }
    }
}

/// A reported video or user.
struct ReportTarget: Sendable, Equatable {
    var type: ReportTargetType
    var id: UUID
}

/// A checked report about to be stored.
struct NewReport: Sendable {
    var reporterID: UUID
    var target: ReportTarget
    var category: ReportCategory
    var comment: String?
}

/// `POST /v1/reports`. Every field is read as sent so that one `422` can name all the bad ones.
struct NewReportRequest: Decodable {
    var targetType: String?
    var targetID: String?
    var category: String?
    var comment: String?

    enum CodingKeys: String, CodingKey {
        case category, comment
        case targetType = "target_type"
        case targetID = "target_id"
    }

    /// The report to store, or a `422` listing every invalid field (reporting oneself among them).
    func validated(reporterID: UUID) throws -> NewReport {
        var validator = Validator()
        let type = self.targetType.flatMap(ReportTargetType.init(rawValue:))
        validator.check(type != nil, "target_type", "Must be one of \(Self.choices(ReportTargetType.self)).")
        let id = self.targetID.flatMap { UUID(text: $0) }
        validator.check(id != nil, "target_id", "Must be a UUID.")
        validator.check(!(type == .user && id == reporterID), "target_id", ReportError.ownTarget(.user).message)
        let category = self.category.flatMap(ReportCategory.init(rawValue:))
        validator.check(category != nil, "category", "Must be one of \(Self.choices(ReportCategory.self)).")
        if let comment { validator.checkLength(comment, 0...1000, "comment", "Must be at most 1000 characters.") }
        try validator.validate()
        guard let type, let id, let category else { throw Problem.validation(field: "body", "Has the wrong shape.") }
        return NewReport(reporterID: reporterID, target: ReportTarget(type: type, id: id), category: category, comment: self.comment)
    }

    static func choices<T: CaseIterable & RawRepresentable>(_ type: T.Type) -> String where T.RawValue == String {
        T.allCases.map(\.rawValue).joined(separator: ", ")
    }
}

/// `POST /v1/admin/reports/{report_id}/resolve`.
struct ResolveReportRequest: Decodable {
    var action: String
    var note: String?

    /// The action and the note (blank is none), or a `422`.
    func validated() throws -> (ReportAction, String?) {
        var validator = Validator()
        let action = ReportAction(rawValue: self.action)
        validator.check(action != nil, "action", "Must be one of \(NewReportRequest.choices(ReportAction.self)).")
        let note = self.note?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let note { validator.checkLength(note, 0...1000, "note", "Must be at most 1000 characters.") }
        try validator.validate()
        guard let action else { throw Problem.validation(field: "action", "Is required.") }
        return (action, note?.isEmpty == false ? note : nil)
    }
}

/// A report as ``SQLReportStore`` selects it (aliased apart from the `users` columns it is joined with), and as the
/// API sends it (`report` in API.md: absent values as `null`, so every key is always there).
struct ReportRecord: SQLRowReadable, ResponseEncodable {
    var id: UUID
    var reporterID: UUID
    var targetType: ReportTargetType
    var targetID: UUID
    var category: ReportCategory
    var comment: String?
    var status: ReportStatus
    var resolution: ReportResolution?
    var createdAt: Date
    var resolvedAt: Date?
    /// The list key of this report, as ``SQLDialectKind/exactInstant(_:)`` reads it.
    var sortKey: Double

    init(row: any SQLRow) throws {
        self.id = try row.decode(column: "report_id", as: UUID.self)
        self.reporterID = try row.decode(column: "reporter_id", as: UUID.self)
        self.targetType = try row.decode(column: "target_type", as: ReportTargetType.self)
        self.targetID = try row.decode(column: "target_id", as: UUID.self)
        self.category = try row.decode(column: "category", as: ReportCategory.self)
        self.comment = try row.decodeIfPresent(column: "comment", as: String.self)
        self.status = try row.decode(column: "status", as: ReportStatus.self)
        self.resolution = try row.decodeIfPresent(column: "resolution", as: ReportResolution.self)
        self.createdAt = try row.decode(column: "report_created_at", as: Date.self)
        self.resolvedAt = try row.decodeIfPresent(column: "resolved_at", as: Date.self)
        self.sortKey = try row.decode(column: "report_sort_key", as: Double.self)
    }

    /// The answer's keys: the columns' except where the aliases differ.
    private enum ResponseKeys: String, CodingKey {
        case id, category, comment, status, resolution
        case targetType = "target_type"
        case targetID = "target_id"
        case createdAt = "created_at"
        case resolvedAt = "resolved_at"
    }

    var target: ReportTarget { ReportTarget(type: self.targetType, id: self.targetID) }
    var cursor: FeedCursor { FeedCursor(instant: self.sortKey, id: self.id) }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: ResponseKeys.self)
        try container.encode(self.id.lowercased, forKey: .id)
        try container.encode(self.targetType, forKey: .targetType)
        try container.encode(self.targetID.lowercased, forKey: .targetID)
        try container.encode(self.category, forKey: .category)
        try container.encode(self.comment, forKey: .comment)
        try container.encode(self.status, forKey: .status)
        try container.encode(self.resolution, forKey: .resolution)
        try container.encode(self.createdAt, forKey: .createdAt)
        try container.encode(self.resolvedAt, forKey: .resolvedAt)
    }
}

/// A report in the moderators' queue, with its reporter and the number of open reports on its target; sent as
/// `report` plus `reporter` and `report_count_for_target`.
struct QueuedReportRecord: SQLRowReadable, ResponseEncodable {
    var report: ReportRecord
    var reporter: UserRecord
    var reportCountForTarget: Int

    enum CodingKeys: String, CodingKey {
        case reporter
        case reportCountForTarget = "report_count_for_target"
    }

    init(row: any SQLRow) throws {
        self.report = try ReportRecord(row: row)
        self.reporter = try UserRecord(row: row)
        self.reportCountForTarget = try row.decode(column: CodingKeys.reportCountForTarget.rawValue, as: Int.self)
    }

    func encode(to encoder: any Encoder) throws {
        try self.report.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.reporter.profile, forKey: .reporter)
        try container.encode(self.reportCountForTarget, forKey: .reportCountForTarget)
    }
}
