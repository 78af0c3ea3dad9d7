import Foundation
import Hummingbird

extension Request {
    /// Decodes a JSON body, turning every way it can be wrong into a problem: `415` for another media type,
    /// `413` over 1 MiB, then as ``decodeStrictJSON(_:from:decoder:)`` says.
    public func decodeJSON<Body: Decodable>(as type: Body.Type, context: AppRequestContext) async throws -> Body {
        guard let body = try await self.decodeJSONIfPresent(as: type, context: context) else {
            throw Problem.invalidJSON("The request body is empty; a JSON object is required.")
        }
        return body
    }

    /// Like ``decodeJSON(as:context:)`` for a body whose members are all optional: no body at all is `nil` (a POST
    /// without a body needs no `Content-Type`, API.md).
    public func decodeJSONIfPresent<Body: Decodable>(as type: Body.Type, context: AppRequestContext) async throws -> Body? {
        if let contentType = self.headers[.contentType], !Self.isJSON(contentType) {
            throw Problem(
                .unsupportedMediaType,
                code: "unsupported_media_type",
                detail: "Send the body as application/json, not \(contentType)."
            )
        }
        let buffer = try await self.body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return nil }
        return try Self.decodeStrictJSON(Body.self, from: Data(buffer: buffer), decoder: context.requestDecoder)
    }

    /// Decodes RFC 8259 JSON only, as a problem when it is wrong: `400 invalid_json` for what is not JSON, a `422`
    /// naming the field for text holding U+0000, a number that does not fit its field, or the wrong shape.
    static func decodeStrictJSON<Body: Decodable>(_ type: Body.Type, from data: Data, decoder: JSONDecoder) throws -> Body {
        let json: StrictJSON
        do {
            json = try StrictJSON(data)
        } catch {
            throw Problem.invalidJSON("The request body is not valid JSON: \(error.reason) at byte \(error.offset).")
        }
        // PostgreSQL cannot store U+0000 in text, and no field of this API needs it: refuse it up front, on both
        // databases, rather than fail deep in a write.
        if !json.fieldsWithNUL.isEmpty {
            throw Problem.validation(
                json.fieldsWithNUL.map { FieldError(field: $0, message: "Must not contain NUL (U+0000) characters.") },
                total: json.fieldsWithNULCount)
        }
        do {
            return try decoder.decode(Body.self, from: data)
        } catch DecodingError.dataCorrupted(let corrupted) where corrupted.codingPath.isEmpty {
            // The syntax was checked above, so this is Foundation's field-less report of a number that does not fit
            // its field (12.5 or 1e400 for an integer): find which one.
            let refused = json.refusedNumber { variant in
                do {
                    _ = try decoder.decode(Body.self, from: variant)
                    return false
                } catch DecodingError.dataCorrupted(let corrupted) {
                    return corrupted.codingPath.isEmpty
                } catch {
                    return false
                }
            }
            throw refused.map { Problem.validation([$0]) } ?? Problem.invalidJSON("The request body is not valid JSON.")
        } catch let error as DecodingError {
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
