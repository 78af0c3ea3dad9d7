import Foundation
import Hummingbird

/// `/v1/reports`: report a video or a user, and see one's own reports and their outcomes.
struct ReportRoutes {
    let reports: any ReportStore
    let limits: RateLimiter
    let cursors: FeedCursor.Codec

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("", use: self.create)
        group.get("", use: self.list)
    }

    /// `201` for a new report; `200` with the open one for a repeat, which the `report_user` limit does not count.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ReportRecord> {
        let reporterID = try context.requireUser()
        let report = try await request.decodeJSON(as: NewReportRequest.self, context: context).validated(reporterID: reporterID)
        if let existing = try await self.reports.openReport(by: reporterID, on: report.target) {
            return EditedResponse(status: .ok, response: existing)
        }
        let reservation = try await self.limits.reserve(.reportUser, subject: reporterID.lowercased)
        let outcome: ReportCreation
        do { outcome = try await self.reports.create(report) } catch {
            // A refused report (unknown target, one's own) is no report.
            try await self.limits.giveBack(reservation)
            throw error
        }
        switch outcome {
        case .created(let record):
            context.logger.info("report made", metadata: ["report_id": .string(record.id.lowercased)])
            return EditedResponse(status: .created, response: record)
        case .existing(let record):
            try await self.limits.giveBack(reservation)
            return EditedResponse(status: .ok, response: record)
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<ReportRecord> {
        let reporterID = try context.requireUser()
        let page = try PageRequest(request, list: "reports", cursors: self.cursors)
        let result = try await self.reports.page(reporterID: reporterID, after: page.after, limit: page.limit)
        return CursorPageResponse(
            "reports", items: result.items, nextCursor: result.next.map { self.cursors.encode($0, list: "reports") })
    }
}

extension ReportError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .targetNotFound(.video): Problem.notFound("Video")
        case .targetNotFound(.user): Problem.notFound("User")
        case .ownTarget: Problem.validation(field: "target_id", self.message)
        case .reportNotFound: Problem.notFound("Report")
        case .alreadyResolved: Problem(.conflict, code: "report_resolved", detail: self.message)
        case .actionNotApplicable: Problem.validation(field: "action", self.message)
        }
    }
}
