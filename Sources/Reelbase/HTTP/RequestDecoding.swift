import Foundation
import Hummingbird

extension Request {
    /// Decodes a JSON body, turning every way it can be wrong into a problem: `415` for another media type,
    /// `413` over 1 MiB, `400 invalid_json` for bytes that are not JSON, `422` naming the field for JSON of the
    /// wrong shape.
    public func decodeJSON<Body: Decodable>(as type: Body.Type, context: AppRequestContext) async throws -> Body {
        if let contentType = self.headers[.contentType], !Self.isJSON(contentType) {
            throw Problem(
                .unsupportedMediaType,
                code: "unsupported_media_type",
                detail: "Send the body as application/json, not \(contentType)."
            )
        }
        let buffer = try await self.body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else {
            throw Problem.invalidJSON("The request body is empty; a JSON object is required.")
        }
        let data = Data(buffer: buffer)
        // PostgreSQL cannot store U+0000 in text, and no field of this API needs it: refuse it up front, on both
        // databases, rather than fail deep in a write.
        if data.contains(0) || data.range(of: Data(#"\u0000"#.utf8)) != nil {
            throw Problem.validation(field: "body", "Text must not contain NUL (U+0000) characters.")
        }
        do {
            return try context.requestDecoder.decode(Body.self, from: data)
        } catch let error as DecodingError {
            // Foundation reports a number that does not fit the field (12.5 for an integer) like broken JSON, with
            // no field: tell the two apart by parsing the bytes on their own.
            if case .dataCorrupted(let decodingContext) = error, decodingContext.codingPath.isEmpty,
                (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil
            {
                throw Problem.validation(field: "body", "A value has the wrong type or range: \(decodingContext.debugDescription)")
            }
            throw Self.problem(for: error)
        }
    }

    private static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }

    static func problem(for error: DecodingError) -> Problem {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .invalidJSON("The request body is not valid JSON.")
        case .dataCorrupted(let context):
            return .validation(field: fieldName(context.codingPath), "Has an invalid value.")
        case .keyNotFound(let key, let context):
            return .validation(field: fieldName(context.codingPath + [key]), "Is required.")
        case .valueNotFound(_, let context):
            return .validation(field: fieldName(context.codingPath), "Must not be null.")
        case .typeMismatch(let type, let context):
            return .validation(field: fieldName(context.codingPath), "Must be \(describe(type)).")
        @unknown default:
            return .validation(field: "body", "Has the wrong shape.")
        }
    }

    /// `video_ids[3]`, `user.name`, or `body` for the document itself.
    static func fieldName(_ path: [any CodingKey]) -> String {
        guard !path.isEmpty else { return "body" }
        var name = ""
        for key in path {
            if let index = key.intValue {
                name += "[\(index)]"
            } else {
                name += name.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return name
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "a boolean"
        case is [Any].Type: return "an array"
        default:
            let name = String(describing: type)
            return name.hasPrefix("Array") ? "an array" : (name.hasPrefix("Dictionary") ? "an object" : "a JSON \(name.lowercased())")
        }
    }
}

/// Collects every invalid field of a request before answering one `422`.
public struct Validator {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public mutating func check(_ condition: Bool, _ field: String, _ message: @autoclosure () -> String) {
        if !condition { self.errors.append(FieldError(field: field, message: message())) }
    }

    public func validate() throws {
        if !self.errors.isEmpty { throw Problem.validation(self.errors) }
    }
}
