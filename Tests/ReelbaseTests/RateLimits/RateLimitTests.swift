import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

/// The abuse limits through the API: logins and registrations (in `.router` mode every request is the address `unknown`).
@Suite("Rate limits: failed logins, registrations, 429 with Retry-After, shared across instances")
struct RateLimitTests {
    @Test(arguments: TestDatabase.allCases)
    func failedLoginsPerEmailAnswer429AndRefuseEvenTheRightPassword(_ database: TestDatabase) async throws {
        try await TestApp.run(database, settings: ["rate.limits": "login_email=3/15m"]) { client in
            let user = try await client.register()
            for _ in 0..<3 {
                try await client.login(user.email, "wrong-password").expectProblem(401, code: "invalid_credentials")
            }
            let refused = try await client.login(user.email, "wrong-password")
            try refused.expectProblem(429, code: "rate_limited")
            // The oldest failure leaves the 15-minute window at most 15 minutes (and at least 14, less the test's run) on.
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect((780...900).contains(retryAfter), "Retry-After \(retryAfter)")
            try await client.login(user.email, user.password).expectProblem(429, code: "rate_limited")
            // The email is compared as the login compares it.
            try await client.login(user.email.uppercased(), user.password).expectProblem(429, code: "rate_limited")
            // Per email: another account signs in.
            let other = try await client.register()
            #expect(try await client.login(other.email, other.password).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func theRightPasswordGivesItsCountBack(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: ["rate.limits": "login_email=2/15m,login_ip=2/15m"]) { client, db in
            let user = try await client.register()
            try await client.login(user.email, "wrong-password").expectProblem(401, code: "invalid_credentials")
            for _ in 0..<5 {
                #expect(try await client.login(user.email, user.password).status == .ok)
            }
            #expect(try await db.events(.loginEmail) == 1)
            #expect(try await db.events(.loginIP) == 1)
            try await client.login(user.email, "wrong-password").expectProblem(401, code: "invalid_credentials")
            try await client.login(user.email, user.password).expectProblem(429, code: "rate_limited")
            // Refused attempts are not counted.
            #expect(try await db.events(.loginEmail) == 2)
            #expect(try await db.events(.loginIP) == 2)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func unknownEmailsCount(_ database: TestDatabase) async throws {
        try await TestApp.run(database, settings: ["rate.limits": "login_email=2/15m"]) { client in
            for _ in 0..<2 {
                try await client.login("nobody@example.com", "wrong-password").expectProblem(401, code: "invalid_credentials")
            }
            try await client.login("Nobody@Example.com", "wrong-password").expectProblem(429, code: "rate_limited")
            try await client.login("somebody@example.com", "wrong-password").expectProblem(401, code: "invalid_credentials")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func failedLoginsPerAddressAnswer429ForEveryEmail(_ database: TestDatabase) async throws {
        try await TestApp.run(database, settings: ["rate.limits": "login_ip=3/15m"]) { client in
            let user = try await client.register()
            for index in 0..<3 {
                try await client.login("nobody\(index)@example.com", "wrong-password").expectProblem(401, code: "invalid_credentials")
            }
            try await client.login("nobody9@example.com", "wrong-password").expectProblem(429, code: "rate_limited")
            try await client.login(user.email, user.password).expectProblem(429, code: "rate_limited")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func registrationsPerAddressAnswer429(_ database: TestDatabase) async throws {
        try await TestApp.run(database, settings: ["rate.limits": "register_ip=2/1h"]) { client in
            let first = try await client.register()
            // A taken email registers nobody, so it does not count.
            try await client.registration(email: first.email).expectProblem(409, code: "email_taken")
            _ = try await client.register()
            let refused = try await client.registration(email: "third@example.com")
            try refused.expectProblem(429, code: "rate_limited")
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect((3480...3600).contains(retryAfter), "Retry-After \(retryAfter)")
            // Once full, a taken email answers 429 too: the limit also bounds probing for accounts.
            try await client.registration(email: first.email).expectProblem(429, code: "rate_limited")
            // Logins are another limit.
            #expect(try await client.login(first.email, first.password).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func concurrentFailuresCountExactly(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: ["rate.limits": "login_email=5/15m"]) { client, db in
            let user = try await client.register()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await client.login(user.email, "wrong-password").status.code } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 401 }.count == 5, "\(statuses)")
            #expect(statuses.filter { $0 == 429 }.count == 15, "\(statuses)")
            #expect(try await db.events(.loginEmail) == 5)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func offCountsNothing(_ database: TestDatabase) async throws {
        try await TestApp.runWithDatabase(database, settings: ["rate.limits": "off"]) { client, db in
            let user = try await client.register()
            for _ in 0..<12 {
                try await client.login(user.email, "wrong-password").expectProblem(401, code: "invalid_credentials")
            }
            #expect(try await db.count("rate_limit_buckets") == 0)
        }
    }

    /// Two applications on one PostgreSQL database, as two instances behind a load balancer: one count.
    @Test func twoInstancesOnOnePostgreSQLShareTheCount() async throws {
        try await TestApp.withFreshDatabase(.postgres) { url in
            let configuration = try TestApp.configuration(databaseURL: url, settings: ["rate.limits": "login_email=3/15m,register_ip=3/1h"])
            let first = try await buildApplication(configuration: configuration, logger: TestApp.logger)
            let second = try await buildApplication(configuration: configuration, logger: TestApp.logger)
            try await first.test(.router) { first in
                try await second.test(.router) { second in
                    let (a, b) = (TestClient(client: first), TestClient(client: second))
                    let user = try await a.register()
                    try await a.login(user.email, "wrong-password").expectProblem(401, code: "invalid_credentials")
                    try await b.login(user.email, "wrong-password").expectProblem(401, code: "invalid_credentials")
                    try await a.login(user.email, "wrong-password").expectProblem(401, code: "invalid_credentials")
                    try await b.login(user.email, user.password).expectProblem(429, code: "rate_limited")
                    try await a.login(user.email, user.password).expectProblem(429, code: "rate_limited")
                    _ = try await b.register()
                    _ = try await a.register()
                    try await b.registration(email: "fourth@example.com").expectProblem(429, code: "rate_limited")
                }
            }
        }
    }
}

extension TestClient {
    func login(_ email: String, _ password: String) async throws -> TestResponse {
        try await self.post("/v1/auth/login", json: ["email": email, "password": password])
    }

    /// A registration attempt of a new username with `email`, answered as it comes.
    func registration(email: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        let username = "u\(UUID().uuidString.prefix(8).lowercased())"
        return try await self.post(
            "/v1/auth/register", json: ["email": email, "password": "password-\(username)", "username": username], headers: headers)
    }
}

extension Reelbase.Database {
    /// The events counted against one limit, over all subjects and buckets.
    func events(_ name: RateLimitName) async throws -> Int {
        try await self.sql.raw("SELECT COALESCE(SUM(events), 0) AS n FROM rate_limit_buckets WHERE limit_name = \(bind: name.rawValue)")
            .first(decodingColumn: "n", as: Int.self) ?? -1
    }
}
