/// OpenAPI part: the moderators' `/v1/admin` endpoints (admins pass every moderator check).
enum ModerationAPI: APIPart {
    static var paths: OAS.Object {
        let user = [OAS.pathParameter("user_id")]
        let suspension = OAS.ref("Suspension")
        return [
            "/v1/admin/reports": [
                "get": OAS.operation(
                    "The reports queue, oldest first (moderators)", tag: "Moderation", auth: .user,
                    parameters: [
                        OAS.query("status", OAS.string(ReportStatus.allCases.map(\.rawValue)), "Open (the default) or resolved reports."),
                        OAS.query("target_type", OAS.string(ReportTargetType.allCases.map(\.rawValue)), "Only reports about videos or users."),
                    ] + OAS.pageParameters,
                    responses: [200: ("A page of reports", OAS.page("reports", OAS.ref("QueuedReport")))])
            ],
            "/v1/admin/reports/{report_id}/resolve": [
                "post": OAS.operation(
                    "Act on a report and resolve every open report on its target (moderators)", tag: "Moderation", auth: .user,
                    parameters: [OAS.pathParameter("report_id")],
                    body: OAS.object(
                        [
                            "action": OAS.string(ReportAction.allCases.map(\.rawValue)),
                            "note": OAS.nullable(["type": "string", "maxLength": 1000]),
                        ], required: ["action"]),
                    responses: [200: ("The report, resolved", OAS.ref("Report"))])
            ],
            "/v1/admin/videos/{video_id}/restore": [
                "post": OAS.operation(
                    "Undo a video's removal (moderators)", tag: "Moderation", auth: .user, parameters: [OAS.pathParameter("video_id")],
                    responses: [200: ("The video", OAS.ref("Video"))])
            ],
            "/v1/admin/users/{user_id}/suspend": [
                "post": OAS.operation(
                    "Suspend an account; repeatable, the first reason is kept (moderators: role user only; admins: anyone but themselves)",
                    tag: "Moderation", auth: .user, parameters: user,
                    body: OAS.object(["reason": ["type": "string", "minLength": 1, "maxLength": 500]]),
                    responses: [200: ("Suspended", suspension)])
            ],
            "/v1/admin/users/{user_id}/unsuspend": [
                "post": OAS.operation(
                    "Lift a suspension (moderators: role user only)", tag: "Moderation", auth: .user, parameters: user,
                    responses: [200: ("Not suspended", suspension)])
            ],
            "/v1/admin/users": [
                "get": OAS.operation(
                    "Accounts newest first, suspended ones included (moderators)", tag: "Moderation", auth: .user,
                    parameters: [
                        OAS.query("q", ["type": "string", "maxLength": 254], "A prefix of the email or the username."),
                        OAS.query("role", UsersAPI.role, "Only accounts of this role."),
                        OAS.query("suspended", OAS.string(["true", "false"]), "Only suspended, or only unsuspended, accounts."),
                    ] + OAS.pageParameters,
                    responses: [200: ("A page of accounts", OAS.page("users", OAS.ref("Account")))])
            ],
            "/v1/admin/effect-jobs/counts": [
                "get": OAS.operation(
                    "How many effect jobs are in each state (moderators)", tag: "Moderation", auth: .user,
                    responses: [
                        200: ("Counts", OAS.object(Dictionary(uniqueKeysWithValues: JobStatus.allCases.map { ($0.rawValue, OAS.integer) })))
                    ])
            ],
            "/v1/admin/moderation-log": [
                "get": OAS.operation(
                    "The append-only moderation log, newest first (moderators)", tag: "Moderation", auth: .user,
                    parameters: OAS.pageParameters, responses: [200: ("A page of entries", OAS.page("entries", OAS.ref("ModerationLogEntry")))])
            ],
        ]
    }

    static var schemas: OAS.Object {
        [
            "Suspension": OAS.object([
                "user_id": OAS.uuid, "suspended": OAS.boolean, "reason": OAS.nullable(OAS.string),
                "suspended_at": OAS.nullable(OAS.dateTime),
            ]),
            "Account": OAS.object(
                UsersAPI.userProperties.merging([
                    "email": OAS.string, "role": UsersAPI.role, "suspended": OAS.boolean, "suspended_at": OAS.nullable(OAS.dateTime),
                ]) { $1 }),
            "ModerationLogEntry": OAS.object([
                "id": OAS.uuid, "actor": OAS.nullable(OAS.ref("User")), "action": OAS.string, "target_type": OAS.string,
                "target_id": OAS.string, "note": OAS.nullable(OAS.string), "created_at": OAS.dateTime,
            ]),
        ]
    }
}
