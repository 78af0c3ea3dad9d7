import Foundation
import SQLKit

/// Why a report or its resolution was refused; nothing was written.
enum ReportError: Error, Sendable, Equatable {
    /// No such target, or one nobody may see any more: a deleted or removed video, a suspended user (or owner).
    case targetNotFound(ReportTargetType)
    /// Reporting oneself or one's own video.
    case ownTarget(ReportTargetType)
    case reportNotFound
    /// Already resolved, with the other open reports on its target or on its own.
    case alreadyResolved
    /// `remove_video` on a report about a user.
    case actionNotApplicable(ReportAction, ReportTargetType)

    var message: String {
        switch self {
        case .targetNotFound(let type): "No \(type.rawValue) has this id."
        case .ownTarget(.user): "You cannot report yourself."
        case .ownTarget(.video): "You cannot report your own video."
        case .reportNotFound: "No report has this id."
        case .alreadyResolved: "This report is already resolved."
        case .actionNotApplicable(let action, let type): "\(action.rawValue) does not apply to a report about a \(type.rawValue)."
        }
    }
}

/// What making a report led to.
enum ReportCreation: Sendable {
    case created(ReportRecord)
    /// The reporter's open report on the same target, unchanged.
    case existing(ReportRecord)
}

/// Which reports the moderators' queue shows.
struct ReportQueueFilter: Sendable, Equatable {
    var status: ReportStatus = .open
    var targetType: ReportTargetType?
}

/// Reports and their resolution.
protocol ReportStore: Sendable {
    /// The reporter's open report on `target`, if any.
    func openReport(by reporterID: UUID, on target: ReportTarget) async throws -> ReportRecord?
    /// Stores the report if the target may be reported (else ``ReportError``); a racing repeat finds the other's row.
    func create(_ report: NewReport) async throws -> ReportCreation
    /// The reporter's own reports, newest first.
    func page(reporterID: UUID, after: FeedCursor?, limit: Int) async throws -> Page<ReportRecord>
    /// The moderators' queue, oldest first.
    func queue(_ filter: ReportQueueFilter, after: FeedCursor?, limit: Int) async throws -> Page<QueuedReportRecord>
    /// Does `action` and resolves every open report on the report's target with it, in one transaction; answers the
    /// report as resolved.
    func resolve(reportID: UUID, action: ReportAction, note: String?, by moderator: Moderator) async throws -> ReportRecord
}

struct SQLReportStore: ReportStore {
    let database: Database

    private var dialect: SQLDialectKind { self.database.dialect }

    /// The columns of a ``ReportRecord``.
    private var columns: SQLQueryString {
        """
        reports.id AS report_id, reports.reporter_id, reports.target_type, reports.target_id, reports.category, reports.comment,
        reports.status, reports.resolution, reports.created_at AS report_created_at, reports.resolved_at,
        \(self.dialect.exactInstant("reports.created_at")) AS report_sort_key
        """
    }

    private func isTarget(_ target: ReportTarget) -> SQLQueryString {
        "reports.target_type = \(literal: target.type.rawValue) AND reports.target_id = \(bind: target.id)"
    }

    private var isOpen: SQLQueryString { "reports.status = \(literal: ReportStatus.open.rawValue)" }

    func openReport(by reporterID: UUID, on target: ReportTarget) async throws -> ReportRecord? {
        try await self.openReport(by: reporterID, on: target, connection: self.database.sql)
    }

    private func openReport(by reporterID: UUID, on target: ReportTarget, connection: any SQLDatabase) async throws -> ReportRecord? {
        try await connection.raw(
            "SELECT \(self.columns) FROM reports WHERE reports.reporter_id = \(bind: reporterID) AND \(self.isTarget(target)) AND \(self.isOpen)"
        ).first(reading: ReportRecord.self)
    }

    func create(_ report: NewReport) async throws -> ReportCreation {
        try await self.database.transaction { connection in
            try await self.checkReportable(report, on: connection)
            let inserted = try await connection.raw(
                """
                INSERT INTO reports (id, reporter_id, target_type, target_id, category, comment, status, created_at)
                VALUES (\(bind: UUID()), \(bind: report.reporterID), \(literal: report.target.type.rawValue), \(bind: report.target.id),
                        \(literal: report.category.rawValue), \(bind: report.comment), \(literal: ReportStatus.open.rawValue), \(self.dialect.now))
                ON CONFLICT DO NOTHING
                RETURNING \(self.columns)
                """
            ).first(reading: ReportRecord.self)
            if let inserted { return .created(inserted) }
            // The unique key of open reports: a repeat committed meanwhile (Postgres' `ON CONFLICT` waited for it).
            guard let existing = try await self.openReport(by: report.reporterID, on: report.target, connection: connection) else {
                throw UnexpectedRow("the open report that refused a repeat is missing")
            }
            return .existing(existing)
        }
    }

    /// Any existing target may be reported, also one a block hides from the reporter (so it is what anyone, not the
    /// reporter, may see); not what nobody may see.
    private func checkReportable(_ report: NewReport, on connection: any SQLDatabase) async throws {
        let target = report.target
        switch target.type {
        case .user:
            if target.id == report.reporterID { throw ReportError.ownTarget(.user) }
            let user = try await connection.raw("SELECT id FROM users WHERE id = \(bind: target.id) AND \(Visibility.anyone.user())").first()
            if user == nil { throw ReportError.targetNotFound(.user) }
        case .video:
            guard
                let owner = try await connection.raw(
                    """
                    SELECT videos.user_id FROM videos JOIN users ON users.id = videos.user_id
                    WHERE videos.id = \(bind: target.id) AND \(Visibility.anyone.video())
                    """
                ).first(decodingColumn: "user_id", as: UUID.self)
            else { throw ReportError.targetNotFound(.video) }
            if owner == report.reporterID { throw ReportError.ownTarget(.video) }
        }
    }

    func page(reporterID: UUID, after: FeedCursor?, limit: Int) async throws -> Page<ReportRecord> {
        var query: SQLQueryString = "SELECT \(self.columns) FROM reports WHERE reports.reporter_id = \(bind: reporterID)"
        if let after {
            query = query + " AND (reports.created_at, reports.id) < (\(self.dialect.instant(exact: after.instant)), \(bind: after.id))"
        }
        query = query + " ORDER BY reports.created_at DESC, reports.id DESC \(limit: limit + 1)"
        let rows = try await self.database.sql.raw(query).all(reading: ReportRecord.self)
        return Page(rows: rows, limit: limit, key: \.cursor)
    }

    func queue(_ filter: ReportQueueFilter, after: FeedCursor?, limit: Int) async throws -> Page<QueuedReportRecord> {
        var query: SQLQueryString = """
            SELECT \(self.columns), \(UserRecord.columns),
                   (SELECT COUNT(*) FROM reports others
                    WHERE others.target_type = reports.target_type AND others.target_id = reports.target_id
                      AND others.status = \(literal: ReportStatus.open.rawValue)) AS report_count_for_target
            FROM reports JOIN users ON users.id = reports.reporter_id
            WHERE reports.status = \(literal: filter.status.rawValue)
            """
        if let type = filter.targetType {
            query = query + " AND reports.target_type = \(literal: type.rawValue)"
        }
        if let after {
            query = query + " AND (reports.created_at, reports.id) > (\(self.dialect.instant(exact: after.instant)), \(bind: after.id))"
        }
        query = query + " ORDER BY reports.created_at, reports.id \(limit: limit + 1)"
        let rows = try await self.database.sql.raw(query).all(reading: QueuedReportRecord.self)
        return Page(rows: rows, limit: limit, key: \.report.cursor)
    }

    func resolve(reportID: UUID, action: ReportAction, note: String?, by moderator: Moderator) async throws -> ReportRecord {
        let dialect = self.dialect
        let actions = ModerationActions(dialect: dialect)
        return try await self.database.transaction { connection in
            guard let report = try await self.report(reportID, on: connection) else { throw ReportError.reportNotFound }
            if action == .removeVideo, report.targetType != .video { throw ReportError.actionNotApplicable(action, report.targetType) }
            // Every open report on the target, locked in one order, so that two moderators resolving two of them at
            // once queue instead of deadlocking; the second then finds its report resolved.
            let open = try await connection.raw(
                "SELECT reports.id FROM reports WHERE \(self.isTarget(report.target)) AND \(self.isOpen) ORDER BY reports.id\(dialect.forUpdate)"
            ).all(decodingColumn: "id", as: UUID.self)
            guard open.contains(reportID) else { throw ReportError.alreadyResolved }

            switch action {
            case .noAction:
                break
            case .removeVideo:
                try await actions.removeVideo(report.targetID, note: note, by: moderator, on: connection)
            case .suspendUser:
                var userID = report.targetID
                if report.targetType == .video { userID = try await actions.owner(ofVideo: report.targetID, on: connection) }
                let reason = note ?? "Reported for \(report.category.rawValue)."
                _ = try await actions.suspend(userID, reason: reason, by: moderator, on: connection)
            }
            // Also any report on the target made since the lock: the target's open reports all close together.
            let reporters = try await connection.raw(
                """
                UPDATE reports SET status = \(literal: ReportStatus.resolved.rawValue), resolution = \(literal: action.resolution.rawValue),
                                   resolved_by = \(bind: moderator.id), resolved_at = \(dialect.now)
                WHERE \(self.isTarget(report.target)) AND \(self.isOpen)
                RETURNING reporter_id
                """
            ).all(decodingColumn: "reporter_id", as: UUID.self)
            let resolvedCount = reporters.count
            // Each reporter hears of it, in id order: resolutions sharing reporters take their event counters in one order.
            let notifications = NotificationWriter(dialect: dialect)
            for reporter in reporters.sorted(by: { $0.uuidString < $1.uuidString }) {
                try await notifications.write(
                    NewNotification(
                        recipientID: reporter, kind: .reportResolved, videoID: report.targetType == .video ? report.targetID : nil,
                        detail: action.resolution.rawValue),
                    on: connection)
            }
            let summary = "\(action.resolution.rawValue): \(resolvedCount) report\(resolvedCount == 1 ? "" : "s")"
            try await ModerationLog(dialect: dialect).record(
                .init(
                    actorID: moderator.id, action: .resolveReports, targetType: report.targetType.logged, targetID: report.targetID,
                    note: note.map { "\(summary); \($0)" } ?? summary),
                on: connection)
            guard let resolved = try await self.report(reportID, on: connection) else {
                throw UnexpectedRow("the report \(reportID.lowercased) just resolved is missing")
            }
            return resolved
        }
    }

    private func report(_ id: UUID, on connection: any SQLDatabase) async throws -> ReportRecord? {
        try await connection.raw("SELECT \(self.columns) FROM reports WHERE reports.id = \(bind: id)").first(reading: ReportRecord.self)
    }
}
