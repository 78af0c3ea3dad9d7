import Crypto
import Foundation
import Hummingbird

/// `GET /openapi.json` and `GET /docs`. The document is assembled from each feature's part, which lives beside
/// that feature's routes; a test holds it to the router's routes both ways, and CI runs schemathesis against it.
enum APIDocument {
    static func document() -> OAS.Object {
        var paths: OAS.Object = [:]
        var schemas: OAS.Object = [:]
        for part in [OperationsAPI.self, AuthAPI.self, UsersAPI.self, VideosAPI.self, SocialAPI.self, BlocksAPI.self, BookmarksAPI.self, SearchAPI.self, CreditsAPI.self, SubscriptionsAPI.self, PromosAPI.self, AdminAPI.self, ReportsAPI.self, ModerationAPI.self, EffectsAPI.self, PaymentsAPI.self, NotificationsAPI.self, EventsAPI.self] as [any APIPart.Type] {
            paths.merge(part.paths) { $1 }
            schemas.merge(part.schemas) { $1 }
        }
        schemas["Problem"] = OAS.object(
            [
                "type": OAS.string, "title": OAS.string, "status": OAS.integer, "detail": OAS.string, "code": OAS.string,
                "errors": OAS.array(OAS.object(["field": OAS.string, "message": OAS.string])),
                "required": OAS.integer, "balance": OAS.integer,
            ],
            required: ["type", "title", "status", "detail", "code"]
        )
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Reelbase API",
                "version": "1.0.0",
                "description": "Short-video feed, social graph and a credit wallet for AI effects. Errors are RFC 9457 problem details.",
            ],
            "servers": [["url": "/"]],
            "paths": paths,
            "components": [
                "schemas": schemas,
                "securitySchemes": [
                    "bearerAuth": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"],
                    "serviceKey": ["type": "http", "scheme": "bearer", "description": "The workers' SERVICE_KEY."],
                ],
                "parameters": [
                    "IdempotencyKey": [
                        "name": "Idempotency-Key", "in": "header", "required": false,
                        "schema": ["type": "string", "minLength": 1, "maxLength": 255],
                        "description": "Makes a retried request safe: the same key and body answer the stored response.",
                    ]
                ],
                "responses": [
                    "Problem": [
                        "description": "An RFC 9457 problem.",
                        "content": ["application/problem+json": ["schema": OAS.ref("Problem")]],
                    ]
                ],
            ],
        ]
    }

    /// The serialised document, built once.
    static let json: Data = (try? JSONSerialization.data(withJSONObject: document(), options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()

    static func addRoutes(to router: Router<AppRequestContext>) {
        router.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: json)))
        }
        router.get("docs") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: docsPolicy],
                body: .init(byteBuffer: ByteBuffer(string: docsPage)))
        }
    }

    /// Swagger UI from its public CDN, as FastAPI serves it.
    static let docsPage = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>Reelbase API</title>
        <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
        <body><div id="swagger-ui"></div>
        <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
        <script>\(docsScript)</script>
        </body></html>
        """
    static let docsScript = ##"SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});"##

    /// The web app's policy would block the CDN: this page allows it, and its one inline script by hash. Swagger UI
    /// sets inline styles and draws icons from `data:` URLs.
    static let docsPolicy = [
        "default-src 'self'",
        "script-src https://cdn.jsdelivr.net 'sha256-\(Data(SHA256.hash(data: Data(docsScript.utf8))).base64EncodedString())'",
        "style-src https://cdn.jsdelivr.net 'unsafe-inline'",
        "img-src 'self' data: https://cdn.jsdelivr.net",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ].joined(separator: "; ")
}

/// One feature's paths and schemas.
protocol APIPart {
    static var paths: OAS.Object { get }
    static var schemas: OAS.Object { get }
}
