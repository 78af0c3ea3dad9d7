import Foundation
import SQLKit

/// The endpoints whose requests may carry an `Idempotency-Key`; a key is scoped to its user and endpoint.
enum IdempotencyScope: String, Sendable {
    case purchase
    case effectJob = "effect_job"
    case promoRedemption = "promo_redemption"
    case creditGrant = "credit_grant"
    case subscription
}

/// What makes two requests under one key "the same request": the SHA-256 of their significant fields, in order.
struct RequestFingerprint: Sendable, Equatable {
    let hex: String

    init(_ fields: String...) {
        // U+001F (unit separator) cannot occur in the fields, so ("ab", "c") and ("a", "bc") differ.
        self.hex = sha256Hex(fields.joined(separator: "\u{1F}"))
    }
}

/// A request that presents an `Idempotency-Key`.
struct IdempotentRequest: Sendable {
    var userID: UUID
    var scope: IdempotencyScope
    var key: String
    var fingerprint: RequestFingerprint
}

/// Why a key cannot be used by this request.
enum IdempotencyError: Error, Sendable {
    /// The key was used before with a different request.
    case keyReused
    /// Another request holding the key is still running.
    case inProgress
}

/// A response kept for an `Idempotency-Key`, replayed byte for byte.
struct StoredResponse: Sendable, Equatable {
    var status: Int
    var body: String
}

/// The answer to a request that went through ``IdempotencyStore/perform(_:prepare:commit:)``.
struct IdempotentAnswer: Sendable {
    var stored: StoredResponse
    /// `true` when this is the kept answer of an earlier request with the same key.
    var replayed: Bool
}

/// `Idempotency-Key` records, and the one flow every idempotent endpoint goes through.
///
/// A key is claimed by inserting its row (the primary key makes exactly one request win) with a lease of
/// ``leaseDuration``: should the owner die before answering, the lease runs out and a retry takes the key over,
/// so an in-flight marker never outlives its request by more than that. The final response is written in the
/// same transaction as the work it reports. Rows are kept (at least 24 h, as promised to clients).
struct IdempotencyStore: Sendable {
    let database: Database
    static let leaseDuration: Duration = .seconds(30)

    /// Runs one idempotent request: claims its key (if it has one), runs `prepare` outside any transaction (a
    /// network call such as a charge), then `commit` in one transaction that also stores the answer.
    ///
    /// An error from either step lets the key go, so the client may retry with it at once (after topping up,
    /// say); nothing is stored for it. Work that must not run twice on a retry is made safe by its own keys (a
    /// gateway's idempotency key derived from this one, a unique payment id), not by holding the key.
    func perform<Prepared: Sendable>(
        _ request: IdempotentRequest?,
        prepare: () async throws -> Prepared,
        commit: @escaping @Sendable (Prepared, any SQLDatabase) async throws -> StoredResponse
    ) async throws -> IdempotentAnswer {
        if let request {
            switch try await self.claim(request) {
            case .claimed: break
            case .replay(let stored): return IdempotentAnswer(stored: stored, replayed: true)
            case .reused: throw IdempotencyError.keyReused
            case .inProgress: throw IdempotencyError.inProgress
            }
        }
        do {
            let prepared = try await prepare()
            let stored = try await self.database.transaction { connection in
                let stored = try await commit(prepared, connection)
                if let request { try await self.complete(request, with: stored, on: connection) }
                return stored
            }
            return IdempotentAnswer(stored: stored, replayed: false)
        } catch {
            if let request { try? await self.release(request) }
            throw error
        }
    }

    /// ``perform(_:prepare:commit:)`` for work that is all inside the transaction.
    func perform(
        _ request: IdempotentRequest?,
        commit: @escaping @Sendable (any SQLDatabase) async throws -> StoredResponse
    ) async throws -> IdempotentAnswer {
        try await self.perform(request, prepare: {}, commit: { _, connection in try await commit(connection) })
    }

    private enum Claim {
        case claimed
        case replay(StoredResponse)
        case reused
        case inProgress
    }

    private struct KeyRow: Decodable {
        var requestHash: String
        var responseStatus: Int?
        var responseBody: String?
        var lockedUntil: Date?

        enum CodingKeys: String, CodingKey {
            case requestHash = "request_hash"
            case responseStatus = "response_status"
            case responseBody = "response_body"
            case lockedUntil = "locked_until"
        }
    }

    private func claim(_ request: IdempotentRequest) async throws -> Claim {
        let now = Date()
        let lease = now.addingTimeInterval(Self.leaseDuration / .seconds(1))
        return try await self.database.transaction { connection in
            let inserted = try await connection.raw(
                """
                INSERT INTO idempotency_keys (user_id, scope, key, request_hash, locked_until, created_at)
                VALUES (\(bind: request.userID), \(bind: request.scope.rawValue), \(bind: request.key),
                        \(bind: request.fingerprint.hex), \(bind: lease), \(self.database.dialect.now))
                ON CONFLICT DO NOTHING
                RETURNING key
                """
            ).first()
            if inserted != nil { return .claimed }
            guard
                let row = try await connection.raw(
                    """
                    SELECT request_hash, response_status, response_body, locked_until FROM idempotency_keys
                    WHERE \(self.matching(request))
                    \(self.database.dialect.forUpdate)
                    """
                ).first(decoding: KeyRow.self)
            else { return .inProgress }
            guard row.requestHash == request.fingerprint.hex else { return .reused }
            if let status = row.responseStatus {
                return .replay(StoredResponse(status: status, body: row.responseBody ?? ""))
            }
            if let lockedUntil = row.lockedUntil, lockedUntil > now {
                return .inProgress
            }
            // The previous owner died without answering: take the key over.
            try await connection.raw("UPDATE idempotency_keys SET locked_until = \(bind: lease) WHERE \(self.matching(request))").run()
            return .claimed
        }
    }

    /// Records the answer, inside the transaction that did the work.
    private func complete(_ request: IdempotentRequest, with response: StoredResponse, on connection: any SQLDatabase) async throws {
        try await connection.raw(
            """
            UPDATE idempotency_keys SET response_status = \(bind: response.status), response_body = \(bind: response.body),
                locked_until = NULL
            WHERE \(self.matching(request))
            """
        ).run()
    }

    /// Lets go of a claimed key whose request ended without an answer worth keeping.
    private func release(_ request: IdempotentRequest) async throws {
        try await self.database.sql.raw(
            "DELETE FROM idempotency_keys WHERE \(self.matching(request)) AND response_status IS NULL"
        ).run()
    }

    /// Deletes keys created before `cutoff`, answered or not (an unanswered one's lease ran out long ago).
    func prune(createdBefore cutoff: Date) async throws {
        try await self.database.sql.raw("DELETE FROM idempotency_keys WHERE created_at < \(bind: cutoff)").run()
    }

    private func matching(_ request: IdempotentRequest) -> SQLQueryString {
        "user_id = \(bind: request.userID) AND scope = \(bind: request.scope.rawValue) AND key = \(bind: request.key)"
    }
}
