import ArgumentParser
import Foundation
import NIOSSL
import Testing

@testable import Reelbase

/// `DATABASE_URL`'s TLS modes (API.md, Configuration) and the SQLite file's mode.
@Suite("Database: sslmode and file modes")
struct DatabaseSettingsTests {
    @Test func sslmodeIsParsedAsAPIMDSays() throws {
        let certificate = try Self.temporaryFile("root.pem")
        let cases: [(String, PostgresTLSMode)] = [
            ("", .disable),
            ("?sslmode=disable", .disable),
            ("?sslmode=require", .require),
            ("?sslmode=verify-ca", .verifyCA(rootCertificateFile: nil)),
            ("?sslmode=verify-full", .verifyFull(rootCertificateFile: nil)),
            ("?sslmode=verify-ca&sslrootcert=\(certificate)", .verifyCA(rootCertificateFile: certificate)),
            ("?sslrootcert=\(certificate)&sslmode=verify-full", .verifyFull(rootCertificateFile: certificate)),
        ]
        for (query, mode) in cases {
            let url = try DatabaseURL("postgres://app:secret@db:5432/reelbase\(query)")
            #expect(url == .postgres(host: "db", port: 5432, username: "app", password: "secret", database: "reelbase", tls: mode), "\(query)")
        }
    }

    @Test func anUnknownSslmodeOrAMissingRootCertificateNamesTheSetting() {
        let cases = [
            ("?sslmode=", "DATABASE_URL sslmode must be disable, require, verify-ca or verify-full, got ''"),
            ("?sslmode=prefer", "DATABASE_URL sslmode must be disable, require, verify-ca or verify-full, got 'prefer'"),
            ("?sslmode=allow", "DATABASE_URL sslmode must be disable, require, verify-ca or verify-full, got 'allow'"),
            ("?sslmode=VERIFY-FULL", "DATABASE_URL sslmode must be disable, require, verify-ca or verify-full, got 'VERIFY-FULL'"),
            ("?sslmode=verify-ca&sslrootcert=/nonexistent/root.pem", "DATABASE_URL sslrootcert '/nonexistent/root.pem' is not a readable file"),
        ]
        for (query, message) in cases {
            #expect(ConfigurationTests.message { try ConfigurationTests.serve(["--database-url", "postgres://app:secret@db/reelbase\(query)"]) } == message)
        }
    }

    @Test func anUnknownSslmodeExits78() async throws {
        let command = try #require(
            try ReelbaseCommand.parseAsRoot(["migrate", "--database-url", "postgres://app@db/reelbase?sslmode=prefer"]) as? MigrateCommand)
        await #expect(throws: ExitCode(78)) { try await command.run() }
    }

    @Test func eachModeMapsToItsCertificateChecks() throws {
        #expect(PostgresTLSMode.disable.configuration == nil)
        let require = try #require(PostgresTLSMode.require.configuration)
        #expect(require.certificateVerification == .none)
        let verifyCA = try #require(PostgresTLSMode.verifyCA(rootCertificateFile: nil).configuration)
        #expect(verifyCA.certificateVerification == .noHostnameVerification)
        #expect(verifyCA.trustRoots == .default)
        let verifyFull = try #require(PostgresTLSMode.verifyFull(rootCertificateFile: "/etc/reelbase/root.pem").configuration)
        #expect(verifyFull.certificateVerification == .fullVerification)
        #expect(verifyFull.trustRoots == .file("/etc/reelbase/root.pem"))
    }

    /// The database file and its `-wal` and `-shm` files, as a running server leaves them after a write.
    @Test func theSQLiteFileAndItsWALAndSHMAreCreatedOwnerOnly() async throws {
        try await TestApp.withFreshDatabase(.sqlite) { url in
            let path = String(url.dropFirst("sqlite://".count))
            let configuration = try TestApp.configuration(databaseURL: url, settings: [:])
            let app = try await buildApplication(configuration: configuration, logger: TestApp.logger)
            try await app.test(.router) { raw in
                _ = try await TestClient(client: raw).register()
                for file in [path, path + "-wal", path + "-shm"] {
                    let attributes = try FileManager.default.attributesOfItem(atPath: file)
                    let mode = try #require(attributes[.posixPermissions] as? Int)
                    #expect(mode == 0o600, "\(file): \(String(mode, radix: 8))")
                }
            }
        }
    }

    /// A PostgreSQL server with a self-signed certificate for `localhost` (and plaintext allowed): no `sslmode` and
    /// `disable` connect in plaintext, `require` encrypts without checking the certificate, `verify-ca` needs it as
    /// `sslrootcert` (the system roots refuse it), `verify-full` also needs the host to match. Encryption is the
    /// server's own word (`pg_stat_ssl`), `nil` a refused connection.
    @Test func eachSslmodeConnectsAsAPIMDSays() async throws {
        try await TestCluster.with { cluster in
            let (certificate, key) = (cluster.directory + "/server.crt", cluster.directory + "/server.key")
            // Under root PostgreSQL runs as `postgres` (scripts/pg.sh), and wants its key readable by itself only.
            try await TestShell.run(
                "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost "
                    + "-keyout '\(key)' -out '\(certificate)' 2>/dev/null && chmod 600 '\(key)' && chmod 644 '\(certificate)' "
                    + "&& { [ \"$(id -u)\" != 0 ] || chown postgres '\(key)' '\(certificate)'; }")
            try await cluster.start(["ssl=on", "ssl_cert_file=\(certificate)", "ssl_key_file=\(key)"])
            let cases: [(host: String, query: String, encrypted: Bool?)] = [
                ("127.0.0.1", "", false),
                ("127.0.0.1", "?sslmode=disable", false),
                ("127.0.0.1", "?sslmode=require", true),
                ("127.0.0.1", "?sslmode=verify-ca", nil),
                ("127.0.0.1", "?sslmode=verify-ca&sslrootcert=\(certificate)", true),
                ("localhost", "?sslmode=verify-full&sslrootcert=\(certificate)", true),
                ("127.0.0.1", "?sslmode=verify-full&sslrootcert=\(certificate)", nil),
            ]
            for (host, query, encrypted) in cases {
                let url = try DatabaseURL(cluster.url(host: host, query: query))
                let answered = try await DatabaseConnector.withDatabase(url, logger: TestApp.logger) { database -> Bool? in
                    guard await database.isReachable() else { return nil }
                    return try await database.sql.raw("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                        .first(decodingColumn: "ssl", as: Bool.self)
                }
                #expect(answered == encrypted, "\(host) \(query)")
            }
        }
    }

    private static func temporaryFile(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("reelbase-\(UUID().uuidString)-\(name)").path
        try Data("not used".utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
