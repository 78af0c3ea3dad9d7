import Foundation
import HTTPTypes
import Hummingbird
import SQLKit

/// A response kept for an `Idempotency-Key`, replayed byte for byte.
struct StoredResponse: Sendable, Equatable {
    var status: Int
    var body: String

    /// The HTTP response; a replay says so in `Idempotent-Replayed: true`.
    func response(replayed: Bool = false) -> Response {
        let contentType = (200..<300).contains(self.status) ? "application/json; charset=utf-8" : "application/problem+json"
        var headers: HTTPFields = [.contentType: contentType]
        if replayed { headers[.idempotentReplayed] = "true" }
        return Response(
            status: HTTPResponse.Status(code: self.status),
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: self.body))
        )
    }

    init(status: Int, body: String) {
        self.status = status
        self.body = body
    }

    init(status: Int, encoding value: some Encodable) throws {
        self.status = status
        self.body = String(decoding: try JSONCoding.encoder.encode(value), as: UTF8.self)
    }

    init(_ problem: Problem) {
        self.status = problem.status.code
        self.body = String(decoding: problem.body, as: UTF8.self)
    }
}

/// The state of a key when a request presents it.
enum IdempotencyClaim: Sendable {
    /// This request now owns the key and must finish it (``IdempotencyStore/complete``) or let it go.
    case claimed
    /// The key was used before with the same request: answer this.
    case replay(StoredResponse)
    /// The key was used before with a different request.
    case reused
    /// Another request holding the key is still running.
    case inProgress
}

/// `Idempotency-Key` records, scoped to a user and an endpoint.
///
/// A key is claimed by inserting its row (the primary key makes exactly one request win) with a lease of
/// ``leaseDuration``: should the owner die before answering, the lease runs out and a retry takes the key over,
/// so an in-flight marker never outlives its request by more than that. The final response is written in the
/// same transaction as the work it reports. Rows are kept (at least 24 h, as promised to clients).
struct IdempotencyStore: Sendable {
    let database: Database
    static let leaseDuration: TimeInterval = 30

    struct Key: Sendable {
        var userID: UUID
        var scope: String
        var key: String
        /// SHA-256 of the request's significant fields.
        var requestHash: String
    }

    func claim(_ key: Key) async throws -> IdempotencyClaim {
        let now = Date()
        let lease = now.addingTimeInterval(Self.leaseDuration)
        return try await self.database.transaction { connection in
            let inserted = try await connection.raw(
                """
                INSERT INTO idempotency_keys (user_id, scope, key, request_hash, locked_until, created_at)
                VALUES (\(bind: key.userID), \(bind: key.scope), \(bind: key.key), \(bind: key.requestHash), \(bind: lease),
                        \(self.database.dialect.now))
                ON CONFLICT DO NOTHING
                RETURNING key
                """
            ).first()
            if inserted != nil { return .claimed }
            guard
                let row = try await connection.raw(
                    """
                    SELECT request_hash, response_status, response_body, locked_until FROM idempotency_keys
                    WHERE user_id = \(bind: key.userID) AND scope = \(bind: key.scope) AND key = \(bind: key.key)
                    \(self.database.dialect.forUpdate)
                    """
                ).first()
            else { return .inProgress }
            guard try row.decode(column: "request_hash", as: String.self) == key.requestHash else { return .reused }
            if let status = try row.decode(column: "response_status", as: Int?.self) {
                return .replay(StoredResponse(status: status, body: try row.decode(column: "response_body", as: String.self)))
            }
            if let lockedUntil = try row.decode(column: "locked_until", as: Date?.self), lockedUntil > now {
                return .inProgress
            }
            // The previous owner died without answering: take the key over.
            try await connection.raw(
                """
                UPDATE idempotency_keys SET locked_until = \(bind: lease)
                WHERE user_id = \(bind: key.userID) AND scope = \(bind: key.scope) AND key = \(bind: key.key)
                """
            ).run()
            return .claimed
        }
    }

    /// Records the answer, inside the transaction that did the work.
    func complete(_ key: Key, with response: StoredResponse, on connection: any SQLDatabase) async throws {
        try await connection.raw(
            """
            UPDATE idempotency_keys SET response_status = \(bind: response.status), response_body = \(bind: response.body),
                locked_until = NULL
            WHERE user_id = \(bind: key.userID) AND scope = \(bind: key.scope) AND key = \(bind: key.key)
            """
        ).run()
    }

    /// Lets go of a claimed key whose request ended without an answer worth keeping (the gateway was unreachable),
    /// so a retry can run at once.
    func release(_ key: Key) async throws {
        try await self.database.sql.raw(
            """
            DELETE FROM idempotency_keys
            WHERE user_id = \(bind: key.userID) AND scope = \(bind: key.scope) AND key = \(bind: key.key)
              AND response_status IS NULL
            """
        ).run()
    }
}

extension Request {
    /// The `Idempotency-Key` header, checked: at most 255 visible ASCII characters.
    func idempotencyKey() throws -> String? {
        guard let key = self.headers[.idempotencyKey] else { return nil }
        guard (1...255).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else {
            throw Problem.validation(field: "Idempotency-Key", "Must be 1 to 255 visible ASCII characters.")
        }
        return key
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}
