import Foundation
import SQLKit

/// A user about to be registered.
struct NewUser: Sendable {
    var id = UUID()
    var email: String
    var username: String
    var displayName: String
    var passwordHash: String
    /// Who invited them (their `referral_code` was given at registration).
    var referredBy: UUID? = nil
}

/// A field left as it is or given a new value.
enum FieldChange<Value: Sendable>: Sendable {
    case keep
    case set(Value)
}

/// A checked change to a profile; `nil` as the new `bio` or `avatarURL` clears it.
struct ProfileChange: Sendable {
    var displayName: FieldChange<String> = .keep
    var bio: FieldChange<String?> = .keep
    var avatarURL: FieldChange<String?> = .keep
}

/// The fields no two accounts share.
enum UniqueUserField: String, Sendable, Decodable {
    case email
    case username
}

/// What signing in checks: the id and password hash of an account, and whether it is suspended.
struct UserCredentials: Sendable, Decodable {
    var id: UUID
    var passwordHash: String
    var suspendedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id
        case passwordHash = "password_hash"
        case suspendedAt = "suspended_at"
    }
}

enum UserStoreError: Error, Sendable, Equatable {
    /// Another account already has this email or username.
    case taken(UniqueUserField)
    /// No user has the referral code given at registration.
    case unknownReferralCode
}

/// Where users live.
protocol UserStore: Sendable {
    /// Inserts the user; throws ``UserStoreError/taken(_:)`` if the email or username is taken meanwhile.
    func insert(_ user: NewUser, on connection: any SQLDatabase) async throws -> UserRecord
    func find(id: UUID) async throws -> UserRecord?
    /// The user with this id if `viewer` (`nil`: anonymous) can see them (``Visibility``).
    func find(id: UUID, visibleTo viewer: UUID?) async throws -> UserRecord?
    /// The credentials of the user with this (lowercased) email.
    func credentials(email: String) async throws -> UserCredentials?
    /// Throws ``UserStoreError/taken(_:)`` naming the email if it is taken, else the username if that is.
    func checkAvailable(email: String, username: String) async throws
    func updateProfile(id: UUID, _ change: ProfileChange) async throws -> UserRecord?
    /// The id of the user whose referral code this is (trimmed, any case); throws ``UserStoreError/unknownReferralCode``.
    func referrer(code: String) async throws -> UUID
}

struct SQLUserStore: UserStore {
    let database: Database

    func insert(_ user: NewUser, on connection: any SQLDatabase) async throws -> UserRecord {
        // A drawn referral code may be taken (1 in 34^8 per user): then the insert conflicts on it, the email and
        // username turn out free, and another code is drawn.
        for _ in 0..<Self.referralCodeAttempts {
            let inserted = try await connection.raw(
                """
                INSERT INTO users (id, email, username, display_name, password_hash, created_at, search_name, referral_code, referred_by)
                VALUES (\(bind: user.id), \(bind: user.email), \(bind: user.username), \(bind: user.displayName),
                        \(bind: user.passwordHash), \(self.database.dialect.now), \(bind: SearchText.stored(user.displayName)),
                        \(bind: ReferralCode.random()), \(bind: user.referredBy))
                ON CONFLICT DO NOTHING
                RETURNING \(UserRecord.columns)
                """
            ).first(reading: UserRecord.self)
            if let inserted { return inserted }
            // Lost a race with another registration of the same email or username, committed by now (Postgres'
            // `ON CONFLICT` waits for it; SQLite has one writer).
            try await self.checkAvailable(email: user.email, username: user.username, on: connection)
        }
        // Should the rival be gone again, the email is named.
        throw UserStoreError.taken(.email)
    }

    private static let referralCodeAttempts = 5

    func referrer(code: String) async throws -> UUID {
        guard
            let id = try await self.database.sql.raw("SELECT id FROM users WHERE referral_code = \(bind: ReferralCode.normalized(code))")
                .first(decodingColumn: "id", as: UUID.self)
        else { throw UserStoreError.unknownReferralCode }
        return id
    }

    func find(id: UUID) async throws -> UserRecord? {
        try await self.database.sql.raw("SELECT \(UserRecord.columns) FROM users WHERE id = \(bind: id)")
            .first(reading: UserRecord.self)
    }

    func find(id: UUID, visibleTo viewer: UUID?) async throws -> UserRecord? {
        try await self.database.sql.raw(
            "SELECT \(UserRecord.columns) FROM users WHERE users.id = \(bind: id) AND " + Visibility(viewer: viewer).user()
        ).first(reading: UserRecord.self)
    }

    func credentials(email: String) async throws -> UserCredentials? {
        try await self.database.sql.raw("SELECT id, password_hash, suspended_at FROM users WHERE email = \(bind: email)")
            .first(decoding: UserCredentials.self)
    }

    func checkAvailable(email: String, username: String) async throws {
        try await self.checkAvailable(email: email, username: username, on: self.database.sql)
    }

    private func checkAvailable(email: String, username: String, on connection: any SQLDatabase) async throws {
        let taken = try await connection.raw(
            """
            SELECT CASE WHEN email = \(bind: email) THEN \(literal: UniqueUserField.email.rawValue)
                        ELSE \(literal: UniqueUserField.username.rawValue) END AS field
            FROM users WHERE email = \(bind: email) OR username = \(bind: username)
            """
        ).all(decodingColumn: "field", as: UniqueUserField.self)
        let field: UniqueUserField? = taken.contains(.email) ? .email : taken.first
        if let field { throw UserStoreError.taken(field) }
    }

    func updateProfile(id: UUID, _ change: ProfileChange) async throws -> UserRecord? {
        var assignments: [SQLQueryString] = []
        if case .set(let value) = change.displayName {
            // The name's search words change in the same statement, so search never finds the old name.
            assignments.append("display_name = \(bind: value), search_name = \(bind: SearchText.stored(value))")
        }
        if case .set(let value) = change.bio { assignments.append("bio = \(bind: value)") }
        if case .set(let value) = change.avatarURL { assignments.append("avatar_url = \(bind: value)") }
        guard !assignments.isEmpty else { return try await self.find(id: id) }
        let set = assignments.dropFirst().reduce(assignments[0]) { $0 + ", " + $1 }
        return try await self.database.sql.raw("UPDATE users SET \(set) WHERE id = \(bind: id) RETURNING \(UserRecord.columns)")
            .first(reading: UserRecord.self)
    }
}
