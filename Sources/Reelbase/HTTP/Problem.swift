import Foundation
import Hummingbird

/// One invalid field of a request, as listed in a `422` problem's `errors`.
public struct FieldError: Codable, Sendable, Equatable {
    public var field: String
    public var message: String

    /// Both are cut short: a field can be a key of the client's choosing, as long as the body.
    public init(field: String, message: String) {
        self.field = field.truncated(to: 200)
        self.message = message.truncated(to: 300)
    }
}

/// An RFC 9457 problem: the only shape in which Reelbase reports an error.
///
/// `detail` is a sentence for people (the seed's clients show it), `code` a stable identifier for programs.
public struct Problem: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var detail: String
    public var errors: [FieldError]?
    /// Extra members, e.g. `required` and `balance` on `insufficient_credits`.
    public var extensions: [String: Int]
    public var headers: HTTPFields

    public init(
        _ status: HTTPResponse.Status,
        code: String,
        detail: String,
        errors: [FieldError]? = nil,
        extensions: [String: Int] = [:],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors
        self.extensions = extensions
        self.headers = headers
    }
}

extension Problem {
    /// At most this many entries in `errors`, whatever the body (API.md, Operations).
    public static let maxFieldErrors = 20

    /// A `422` listing the first ``maxFieldErrors`` of `errors`; `total` counts those left out too.
    public static func validation(_ errors: [FieldError], total: Int? = nil) -> Problem {
        let listed = Array(errors.prefix(maxFieldErrors))
        let omitted = max(total ?? errors.count, errors.count) - listed.count
        let fields = listed.map(\.field).joined(separator: ", ")
        let more = omitted > 0 ? " and \(omitted) more" : ""
        return Problem(.unprocessableContent, code: "validation_failed", detail: "Invalid fields: \(fields)\(more).", errors: listed)
    }

    public static func validation(field: String, _ message: String) -> Problem {
        .validation([FieldError(field: field, message: message)])
    }

    public static func notFound(_ what: String) -> Problem {
        Problem(.notFound, code: "not_found", detail: "\(what) was not found.")
    }

    public static func unauthorized(_ detail: String = "Missing or invalid access token.") -> Problem {
        Problem(.unauthorized, code: "unauthorized", detail: detail, headers: [.wwwAuthenticate: "Bearer"])
    }

    public static func forbidden(_ detail: String) -> Problem {
        Problem(.forbidden, code: "forbidden", detail: detail)
    }

    public static func invalidJSON(_ detail: String) -> Problem {
        Problem(.badRequest, code: "invalid_json", detail: detail)
    }

    public static let databaseUnavailable = Problem(
        .serviceUnavailable,
        code: "database_unavailable",
        detail: "The database is unavailable; retry shortly.",
        headers: [.retryAfter: "5"]
    )

    public static let internalError = Problem(
        .internalServerError,
        code: "internal_error",
        detail: "An unexpected error occurred. It has been logged with this response's X-Request-Id."
    )
}

extension Problem: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        self.response()
    }

    /// The `application/problem+json` response.
    public func response() -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(status: self.status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: self.body)))
    }

    var body: Data {
        // Encoding a value of fixed shape cannot fail; an empty body would still carry the status.
        (try? Self.bodyEncoder.encode(Body(self))) ?? Data()
    }

    private static let bodyEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The RFC 9457 members, then the problem's own extension members at the top level.
    private struct Body: Encodable {
        var problem: Problem

        init(_ problem: Problem) { self.problem = problem }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ name: String) { self.stringValue = name }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode("about:blank", forKey: Key("type"))
            try container.encode(self.problem.status.reasonPhrase, forKey: Key("title"))
            try container.encode(self.problem.status.code, forKey: Key("status"))
            try container.encode(self.problem.detail, forKey: Key("detail"))
            try container.encode(self.problem.code, forKey: Key("code"))
            try container.encodeIfPresent(self.problem.errors, forKey: Key("errors"))
            for (name, value) in self.problem.extensions {
                try container.encode(value, forKey: Key(name))
            }
        }
    }
}

/// A domain error that has one answer over HTTP. Stores and services throw their own error types; each
/// feature declares, beside its routes, which problem each case is, and ``ProblemMiddleware`` sends it.
protocol ProblemConvertible: Error {
    var problem: Problem { get }
}

extension HTTPResponse.Status {
    /// `402`, which swift-http-types leaves unnamed.
    public static let paymentRequired = HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
}
