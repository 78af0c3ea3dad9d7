import Foundation

/// Where the data lives, parsed from `DATABASE_URL`.
public enum DatabaseURL: Sendable, Equatable {
    /// An embedded SQLite file, created on first start.
    case sqlite(path: String)
    /// A PostgreSQL server; `tls` comes from `?sslmode=` (loopback and private networks go without).
    case postgres(host: String, port: Int, username: String, password: String?, database: String, tls: PostgresTLSMode = .disable)

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
            tls: try PostgresTLSMode(queryItems: components.queryItems ?? [])
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

/// How a PostgreSQL connection uses TLS, from `DATABASE_URL`'s `sslmode` (and `sslrootcert`), as libpq spells them.
public enum PostgresTLSMode: Sendable, Equatable {
    /// No `sslmode` parameter, or `disable`: plaintext.
    case disable
    /// `require`: encrypted, but the server's certificate is not checked (it could be anyone's).
    case require
    /// `verify-ca`: the certificate must chain to a trusted root (`sslrootcert`'s file, else the system's).
    case verifyCA(rootCertificateFile: String?)
    /// `verify-full`: as `verify-ca`, and the certificate must name the host.
    case verifyFull(rootCertificateFile: String?)

    init(queryItems: [URLQueryItem]) throws {
        let rootCertificateFile = queryItems.last { $0.name == "sslrootcert" }?.value.flatMap { $0.isEmpty ? nil : $0 }
        if let rootCertificateFile, !FileManager.default.isReadableFile(atPath: rootCertificateFile) {
            throw ConfigurationError("DATABASE_URL sslrootcert '\(rootCertificateFile)' is not a readable file")
        }
        switch queryItems.last(where: { $0.name == "sslmode" })?.value {
        // Absent means plaintext (API.md); an empty value is no mode, so it is refused like any other, not taken as
        // absent: a template that left it empty meant some mode, and plaintext is the one that must never be a guess.
        case nil, "disable": self = .disable
        case "require": self = .require
        case "verify-ca": self = .verifyCA(rootCertificateFile: rootCertificateFile)
        case "verify-full": self = .verifyFull(rootCertificateFile: rootCertificateFile)
        case let mode?:
            throw ConfigurationError("DATABASE_URL sslmode must be disable, require, verify-ca or verify-full, got '\(mode)'")
        }
    }
}
