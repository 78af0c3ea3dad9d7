/// OpenAPI part: health, readiness, metrics, the document itself.
enum OperationsAPI: APIPart {
    static var paths: OAS.Object {
        let status = OAS.ref("Status")
        return [
            "/healthz": ["get": OAS.operation("The process is up", tag: "Operations", auth: .none, responses: [200: ("Up", status)])],
            "/readyz": [
                "get": OAS.operation(
                    "The database is reachable (503 database_unavailable otherwise)", tag: "Operations", auth: .none,
                    responses: [200: ("Ready", status)])
            ],
            "/metrics": [
                "get": OAS.operation("Prometheus metrics (text exposition format)", tag: "Operations", auth: .none, responses: [:])
                    .merging(["responses": ["200": ["description": "Prometheus text", "content": ["text/plain": ["schema": OAS.string]]]]]) { $1 }
            ],
            "/openapi.json": [
                "get": OAS.operation("This document", tag: "Operations", auth: .none, responses: [200: ("OpenAPI 3.1", ["type": "object"])])
            ],
            "/docs": [
                "get": OAS.operation("Swagger UI", tag: "Operations", auth: .none, responses: [:])
                    .merging(["responses": ["200": ["description": "HTML page", "content": ["text/html": ["schema": OAS.string]]]]]) { $1 }
            ],
        ]
    }

    static var schemas: OAS.Object {
        ["Status": OAS.object(["status": OAS.string(["ok"])])]
    }
}
