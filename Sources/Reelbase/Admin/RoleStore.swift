import Foundation
import SQLKit

/// Why a role change was refused; nothing was written.
enum RoleChangeError: Error, Sendable, Equatable {
    case unknownUser
    /// The change would leave no unsuspended admin.
    case lastAdmin
}

/// The account whose role changes: by id over HTTP, by email from the command line.
enum RoleTarget: Sendable {
    case id(UUID)
    case email(String)
}

/// Role changes, for `PUT /v1/admin/users/{id}/role` and `reelbase users set-role`: one path, one log.
protocol RoleStore: Sendable {
    /// Gives the target `role`, recording the change in the moderation log with `actorID` (`nil`: the operator);
    /// setting the role it already has changes and records nothing.
    func setRole(_ role: UserRole, of target: RoleTarget, by actorID: UUID?) async throws -> UserRecord
}

struct SQLRoleStore: RoleStore {
    let database: Database

    func setRole(_ role: UserRole, of target: RoleTarget, by actorID: UUID?) async throws -> UserRecord {
        let dialect = self.database.dialect
        let log = ModerationLog(dialect: dialect)
        return try await self.database.transaction { connection in
            let admins = try await Self.lockActiveAdmins(on: connection, dialect: dialect)
            let match: SQLQueryString =
                switch target {
                case .id(let id): "id = \(bind: id)"
                case .email(let email): "email = \(bind: email.lowercased())"
                }
            guard let user = try await connection.raw("SELECT \(UserRecord.columns) FROM users WHERE \(match)").first(reading: UserRecord.self)
            else { throw RoleChangeError.unknownUser }
            guard user.role != role else { return user }
            if admins == [user.id] { throw RoleChangeError.lastAdmin }
            guard
                let changed = try await connection.raw(
                    "UPDATE users SET role = \(literal: role.rawValue) WHERE id = \(bind: user.id) RETURNING \(UserRecord.columns)"
                ).first(reading: UserRecord.self)
            else { throw UnexpectedRow("the user \(user.id) just read is missing") }
            try await log.record(
                .init(actorID: actorID, action: .setRole, targetType: .user, targetID: user.id, note: "\(user.role.rawValue) -> \(role.rawValue)"),
                on: connection)
            return changed
        }
    }

    /// The unsuspended admins, locked until the transaction ends, for any change that could remove one (a demotion
    /// now, a suspension later). On PostgreSQL two admins demoting each other at once would otherwise each see the
    /// other still in place and both succeed; with the rows locked (in one order, so the two cannot deadlock) the
    /// second waits, then re-reads the first's committed row and finds itself the last. SQLite's write transactions
    /// are serial already.
    static func lockActiveAdmins(on connection: any SQLDatabase, dialect: SQLDialectKind) async throws -> [UUID] {
        try await connection.raw(
            """
            SELECT id FROM users WHERE role = \(literal: UserRole.admin.rawValue) AND suspended_at IS NULL
            ORDER BY id\(dialect.forUpdate)
            """
        ).all(decodingColumn: "id", as: UUID.self)
    }
}
