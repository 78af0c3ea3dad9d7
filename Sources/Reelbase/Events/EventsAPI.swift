/// OpenAPI part: live events.
enum EventsAPI: APIPart {
    static var paths: OAS.Object {
        let stream = OAS.operation(
            "The caller's live events as Server-Sent Events (notification, balance, job, reset); header or ?ticket= auth",
            tag: "Events", auth: .user,
            parameters: [
                OAS.query("ticket", OAS.string, "A single-use ticket from POST /v1/events/tickets, instead of the header."),
                OAS.query("last_event_id", OAS.string, "Resume after this event id (as the Last-Event-ID header)."),
                ["name": "Last-Event-ID", "in": "header", "required": false, "schema": OAS.string],
            ],
            responses: [:])
        return [
            "/v1/events": [
                "get": stream.merging([
                    "responses": [
                        "200": [
                            "description": "An endless text/event-stream: `id:`, `event:` and `data:` (JSON) lines per event, comments as heartbeats",
                            "content": ["text/event-stream": ["schema": OAS.string]],
                        ],
                        "default": ["$ref": "#/components/responses/Problem"],
                    ]
                ]) { $1 }
            ],
            "/v1/events/tickets": [
                "post": OAS.operation(
                    "A single-use ticket for GET /v1/events?ticket=, valid 60 s, bound to the caller's session", tag: "Events",
                    auth: .user,
                    responses: [201: ("The ticket", OAS.object(["ticket": OAS.string, "expires_in": ["type": "integer", "enum": [60]]]))])
            ],
        ]
    }

    static var schemas: OAS.Object { [:] }
}
