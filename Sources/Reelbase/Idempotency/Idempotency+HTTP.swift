import Foundation
import HTTPTypes
import Hummingbird

extension Request {
    /// The `Idempotency-Key` header, checked: at most 255 visible ASCII characters.
    func idempotencyKey() throws -> String? {
        guard let key = self.headers[.idempotencyKey] else { return nil }
        guard (1...255).contains(key.lengthInCodePoints), key.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else {
            throw Problem.validation(field: "Idempotency-Key", "Must be 1 to 255 visible ASCII characters.")
        }
        return key
    }
}

extension IdempotencyError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .keyReused:
            Problem(.conflict, code: "idempotency_key_reused", detail: "This Idempotency-Key was already used with a different request.")
        case .inProgress:
            Problem(
                .conflict,
                code: "idempotency_in_progress",
                detail: "A request with this Idempotency-Key is still being processed; retry shortly.",
                headers: [.retryAfter: "1"]
            )
        }
    }
}

extension StoredResponse {
    /// A success answer: the value as the API's JSON.
    init(status: HTTPResponse.Status, encoding value: some Encodable) throws {
        self.init(status: status.code, body: String(decoding: try JSONCoding.encoder.encode(value), as: UTF8.self))
    }

    /// A refusal kept as the answer to its key (a declined payment is not retried by replaying the key).
    init(_ problem: Problem) {
        self.init(status: problem.status.code, body: String(decoding: problem.body, as: UTF8.self))
    }
}

extension IdempotentAnswer {
    /// The HTTP response; a replay says so in `Idempotent-Replayed: true`.
    var response: Response {
        let contentType = (200..<300).contains(self.stored.status) ? "application/json; charset=utf-8" : "application/problem+json"
        var headers: HTTPFields = [.contentType: contentType]
        if self.replayed { headers[.idempotentReplayed] = "true" }
        return Response(
            status: HTTPResponse.Status(code: self.stored.status),
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: self.stored.body))
        )
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}
