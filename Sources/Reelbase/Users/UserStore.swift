import Foundation
import SQLKit

/// A user about to be registered.
struct NewUser: Sendable {
    var id = UUID()
    var email: String
    var username: String
    var displayName: String
    var passwordHash: String
}

/// Where users live.
protocol UserStore: Sendable {
    /// Inserts the user, or returns `nil` if the email or username is already taken.
    func insert(_ user: NewUser, on connection: any SQLDatabase) async throws -> UserRecord?
    func find(id: UUID) async throws -> UserRecord?
    /// The id and password hash of the user with this (lowercased) email.
    func credentials(email: String) async throws -> (id: UUID, passwordHash: String)?
    /// Which of the two unique fields is already taken, if any.
    func takenField(email: String, username: String) async throws -> String?
    func updateProfile(id: UUID, _ change: UpdateProfileRequest) async throws -> UserRecord?
}

struct SQLUserStore: UserStore {
    let database: Database

    func insert(_ user: NewUser, on connection: any SQLDatabase) async throws -> UserRecord? {
        try await connection.raw(
            """
            INSERT INTO users (id, email, username, display_name, password_hash, created_at)
            VALUES (\(bind: user.id), \(bind: user.email), \(bind: user.username), \(bind: user.displayName),
                    \(bind: user.passwordHash), \(self.database.dialect.now))
            ON CONFLICT DO NOTHING
            RETURNING \(UserRecord.columns)
            """
        ).first().map(UserRecord.init(row:))
    }

    func find(id: UUID) async throws -> UserRecord? {
        try await self.database.sql.raw("SELECT \(UserRecord.columns) FROM users WHERE id = \(bind: id)")
            .first().map(UserRecord.init(row:))
    }

    func credentials(email: String) async throws -> (id: UUID, passwordHash: String)? {
        guard let row = try await self.database.sql.raw("SELECT id, password_hash FROM users WHERE email = \(bind: email)").first()
        else { return nil }
        return (try row.decode(column: "id", as: UUID.self), try row.decode(column: "password_hash", as: String.self))
    }

    func takenField(email: String, username: String) async throws -> String? {
        let rows = try await self.database.sql.raw(
            """
            SELECT CASE WHEN email = \(bind: email) THEN 'email' ELSE 'username' END AS field
            FROM users WHERE email = \(bind: email) OR username = \(bind: username)
            """
        ).all()
        let fields = try Set(rows.map { try $0.decode(column: "field", as: String.self) })
        return fields.contains("email") ? "email" : fields.first
    }

    func updateProfile(id: UUID, _ change: UpdateProfileRequest) async throws -> UserRecord? {
        var assignments: [SQLQueryString] = []
        if case .set(let value?) = change.displayName { assignments.append("display_name = \(bind: value)") }
        if case .set(let value) = change.bio { assignments.append("bio = \(bind: value)") }
        if case .set(let value) = change.avatarURL { assignments.append("avatar_url = \(bind: value)") }
        guard !assignments.isEmpty else { return try await self.find(id: id) }
        let set = assignments.dropFirst().reduce(assignments[0]) { $0 + ", " + $1 }
        return try await self.database.sql.raw("UPDATE users SET \(set) WHERE id = \(bind: id) RETURNING \(UserRecord.columns)")
            .first().map(UserRecord.init(row:))
    }
}
