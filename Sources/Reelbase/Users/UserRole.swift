import ArgumentParser

/// What a user may do beyond their own account. Stored in `users.role`; moderators moderate, admins also manage
/// roles and credits.
public enum UserRole: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
    case user, moderator, admin

    /// Whether this role may do what `required` may: admins pass every moderator check.
    func includes(_ required: UserRole) -> Bool {
        self.rank >= required.rank
    }

    private var rank: Int {
        switch self {
        case .user: 0
        case .moderator: 1
        case .admin: 2
        }
    }
}
