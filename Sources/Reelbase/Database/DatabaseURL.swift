import Foundation

/// Where the data lives, parsed from `DATABASE_URL`.
public enum DatabaseURL: Sendable, Equatable {
    /// An embedded SQLite file, created on first start.
    case sqlite(path: String)
    /// A PostgreSQL server.
    /// A PostgreSQL server; `requireTLS` comes from `?sslmode=require` (loopback and private networks go without).
    case postgres(host: String, port: Int, username: String, password: String?, database: String, requireTLS: Bool = false)

    public init(_ string: String) throws {
        if string.hasPrefix("sqlite://") {
            let path = String(string.dropFirst("sqlite://".count))
            guard !path.isEmpty else {
                throw ConfigurationError("DATABASE_URL 'sqlite://' needs a file path, e.g. sqlite://reelbase.sqlite")
            }
            self = .sqlite(path: path)
            return
        }
        guard string.hasPrefix("postgres://") || string.hasPrefix("postgresql://"),
            let components = URLComponents(string: string),
            let host = components.host, !host.isEmpty
        else {
            throw ConfigurationError(
                "DATABASE_URL must be sqlite://PATH or postgres://user:pass@host:port/db, got '\(Self.redacted(string))'"
            )
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !database.isEmpty else {
            throw ConfigurationError("DATABASE_URL '\(Self.redacted(string))' names no database")
        }
        self = .postgres(
            host: host,
            port: components.port ?? 5432,
            username: components.percentEncodedUser?.removingPercentEncoding ?? "postgres",
            password: components.percentEncodedPassword?.removingPercentEncoding,
            database: database,
            requireTLS: components.queryItems?.contains { $0.name == "sslmode" && $0.value == "require" } ?? false
        )
    }

    /// The URL without its password, fit for logs and error messages.
    public var redactedDescription: String {
        switch self {
        case .sqlite(let path):
            return "sqlite://\(path)"
        case .postgres(let host, let port, let username, let password, let database, _):
            return "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
        }
    }

    private static func redacted(_ string: String) -> String {
        guard var components = URLComponents(string: string), components.password != nil else { return string }
        components.password = "***"
        return components.string ?? "<unparseable>"
    }
}
