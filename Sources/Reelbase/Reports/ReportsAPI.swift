/// OpenAPI part: `/v1/reports` (the moderators' side is in ``ModerationAPI``).
enum ReportsAPI: APIPart {
    static var paths: OAS.Object {
        [
            "/v1/reports": [
                "post": OAS.operation(
                    "Report a video or a user; a repeat while the first is open answers it (200) and is not counted by report_user",
                    tag: "Reports", auth: .user,
                    body: OAS.object(
                        [
                            "target_type": OAS.string(ReportTargetType.allCases.map(\.rawValue)), "target_id": OAS.uuid,
                            "category": OAS.string(ReportCategory.allCases.map(\.rawValue)),
                            "comment": OAS.nullable(["type": "string", "maxLength": 1000]),
                        ], required: ["target_type", "target_id", "category"]),
                    responses: [201: ("Reported", OAS.ref("Report")), 200: ("The open report already made", OAS.ref("Report"))]),
                "get": OAS.operation(
                    "The caller's own reports, newest first, with their outcomes", tag: "Reports", auth: .user,
                    parameters: OAS.pageParameters, responses: [200: ("A page of reports", OAS.page("reports", OAS.ref("Report")))]),
            ]
        ]
    }

    static var reportProperties: [String: OAS.Object] {
        [
            "id": OAS.uuid, "target_type": OAS.string(ReportTargetType.allCases.map(\.rawValue)), "target_id": OAS.uuid,
            "category": OAS.string(ReportCategory.allCases.map(\.rawValue)), "comment": OAS.nullable(OAS.string),
            "status": OAS.string(ReportStatus.allCases.map(\.rawValue)),
            "resolution": OAS.nullable(OAS.string(ReportResolution.allCases.map(\.rawValue))),
            "created_at": OAS.dateTime, "resolved_at": OAS.nullable(OAS.dateTime),
        ]
    }

    static var schemas: OAS.Object {
        [
            "Report": OAS.object(reportProperties),
            "QueuedReport": OAS.object(
                reportProperties.merging(["reporter": OAS.ref("User"), "report_count_for_target": OAS.integer]) { $1 }),
        ]
    }
}
