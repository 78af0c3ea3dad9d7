import Foundation

/// Small builders for the OpenAPI 3.1 document, so each feature's part of it reads like the API it describes.
/// Values are plain JSON objects (`[String: Any]`), serialised once at start-up.
enum OAS {
    typealias Object = [String: Any]

    static var string: Object { ["type": "string"] }
    static var integer: Object { ["type": "integer"] }
    static var number: Object { ["type": "number"] }
    static var boolean: Object { ["type": "boolean"] }
    static var uuid: Object { ["type": "string", "format": "uuid"] }
    static var dateTime: Object { ["type": "string", "format": "date-time"] }
    /// A link clients store; ``URLRule`` holds the rest of the rule (https, a DNS host), which prose in API.md states.
    static var uri: Object { ["type": "string", "format": "uri", "maxLength": URLRule.maxLength] }

    static func ref(_ name: String) -> Object { ["$ref": "#/components/schemas/\(name)"] }
    static func nullable(_ schema: Object) -> Object { ["anyOf": [schema, ["type": "null"]]] }
    static func array(_ items: Object) -> Object { ["type": "array", "items": items] }
    static func map(_ values: Object) -> Object { ["type": "object", "additionalProperties": values] }
    static func string(_ values: [String]) -> Object { ["type": "string", "enum": values] }

    /// An object whose listed `required` keys are always present.
    static func object(_ properties: [String: Object], required: [String]? = nil) -> Object {
        ["type": "object", "properties": properties, "required": required ?? properties.keys.sorted()]
    }

    enum Auth {
        /// No credentials.
        case none
        /// A bearer access token is required.
        case user
        /// A bearer access token is optional and adds viewer state.
        case optionalUser
        /// The workers' service key.
        case service
    }

    /// An operation. Every operation also documents `default`: a problem+json error.
    static func operation(
        _ summary: String,
        tag: String,
        auth: Auth,
        parameters: [Object] = [],
        body: Object? = nil,
        bodyRequired: Bool = true,
        idempotent: Bool = false,
        responses: [Int: (String, Object?)]
    ) -> Object {
        var operation: Object = ["summary": summary, "tags": [tag]]
        var allParameters = parameters
        switch auth {
        case .none: operation["security"] = [Object]()
        case .user: operation["security"] = [["bearerAuth": [String]()]]
        case .optionalUser: operation["security"] = [["bearerAuth": [String]()], Object()]
        case .service: operation["security"] = [["serviceKey": [String]()]]
        }
        if let body {
            operation["requestBody"] = ["required": bodyRequired, "content": ["application/json": ["schema": body]]]
        }
        if idempotent {
            allParameters.append(["$ref": "#/components/parameters/IdempotencyKey"])
        }
        if !allParameters.isEmpty { operation["parameters"] = allParameters }
        var documented: Object = ["default": ["$ref": "#/components/responses/Problem"]]
        for (status, (description, schema)) in responses {
            var response: Object = ["description": description]
            if let schema { response["content"] = ["application/json": ["schema": schema]] }
            documented[String(status)] = response
        }
        operation["responses"] = documented
        return operation
    }

    static func pathParameter(_ name: String) -> Object {
        ["name": name, "in": "path", "required": true, "schema": string]
    }

    static func query(_ name: String, _ schema: Object, _ description: String) -> Object {
        ["name": name, "in": "query", "required": false, "schema": schema, "description": description]
    }

    /// The answer of a cursor list: `{<items key>: [item], next_cursor, has_more}`.
    static func page(_ itemsKey: String, _ item: Object) -> Object {
        object([itemsKey: array(item), "next_cursor": nullable(string), "has_more": boolean])
    }

    /// `?cursor=&limit=` of every cursor list.
    static var pageParameters: [Object] {
        [
            query("cursor", string, "Opaque position from `next_cursor`; absent or empty for the first page."),
            query("limit", ["type": "integer", "minimum": 1, "maximum": 100, "default": 20], "Items per page."),
        ]
    }
}
