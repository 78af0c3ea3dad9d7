/// OpenAPI part: notifications.
enum NotificationsAPI: APIPart {
    static var paths: OAS.Object {
        let paths: OAS.Object = [
            "/v1/notifications": [
                "get": OAS.operation(
                    "The caller's notifications, newest first (a cursor belongs to its filter)", tag: "Notifications", auth: .user,
                    parameters: OAS.pageParameters + [
                        OAS.query("unread", OAS.string(["true", "false"]), "`true`: only unread ones; `false` or absent: all.")
                    ],
                    responses: [200: ("A page of notifications", OAS.page("notifications", OAS.ref("Notification")))])
            ],
            "/v1/notifications/unread-count": [
                "get": OAS.operation(
                    "How many notifications are unread (exact up to 1000, then 1000)", tag: "Notifications", auth: .user,
                    responses: [200: ("The count", OAS.object(["count": ["type": "integer", "minimum": 0, "maximum": 1000]]))])
            ],
            "/v1/notifications/read-all": [
                "post": OAS.operation(
                    "Mark read every notification up to a watermark (absent or null: all created before the request)", tag: "Notifications",
                    auth: .user, body: OAS.object(["up_to": OAS.nullable(OAS.uuid)], required: []), bodyRequired: false,
                    responses: [200: ("How many became read", OAS.object(["updated": OAS.integer]))])
            ],
        ]
        return paths.merging(BatchCheck<ReadNotifications>.paths) { $1 }
    }

    static var schemas: OAS.Object {
        [
            "Notification": OAS.object([
                "id": OAS.uuid,
                "type": OAS.string(NotificationKind.allCases.map(\.rawValue)),
                "created_at": OAS.dateTime,
                "read_at": OAS.nullable(OAS.dateTime),
                "actor": OAS.nullable(OAS.ref("User")),
                "video": OAS.nullable(OAS.object(["id": OAS.uuid, "title": OAS.string])),
                "job_id": OAS.nullable(OAS.uuid),
                "credits": OAS.nullable(OAS.integer),
                "text": OAS.string,
            ])
        ]
    }
}
