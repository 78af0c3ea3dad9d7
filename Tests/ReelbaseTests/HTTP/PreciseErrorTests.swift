import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

/// API.md, Operations: every bad field is named (wrong types, out-of-range numbers, NUL), ids with their value, at
/// most 20 entries, strict JSON only, lengths in code points.
@Suite("HTTP conventions: precise, bounded errors")
struct PreciseErrorTests {
    /// The only entry of a 422's `errors`.
    static func onlyError(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> API.FieldError {
        let errors = try #require(try response.expectProblem(422, code: "validation_failed", sourceLocation: sourceLocation).errors)
        #expect(errors.count == 1, "\(errors)", sourceLocation: sourceLocation)
        return try #require(errors.first, sourceLocation: sourceLocation)
    }

    @Test(arguments: TestDatabase.allCases)
    func wrongTypesHugeNumbersAndNULNameTheirField(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let admin = try await client.registerAdmin()
            func grant(_ fields: String) async throws -> TestResponse {
                try await client.request(
                    .post, "/v1/admin/credits/grants", token: admin.accessToken,
                    rawBody: #"{"user_id":"\#(admin.id)",\#(fields)}"#)
            }
            let cases: [(String, API.FieldError)] = [
                (#""credits":12.5,"reason":"x""#, .init(field: "credits", message: "Must be an integer (got 12.5).")),
                (#""credits":1e400,"reason":"x""#, .init(field: "credits", message: "Is out of range (got 1e400).")),
                (#""credits":-1e400,"reason":"x""#, .init(field: "credits", message: "Is out of range (got -1e400).")),
                (
                    #""credits":99999999999999999999999,"reason":"x""#,
                    .init(field: "credits", message: "Is out of range (got 99999999999999999999999).")
                ),
                // Unusual numbers elsewhere, in an unknown field and after the bad one, are not blamed.
                (#""note":2.5,"credits":7.25,"reason":"x","later":[1e400,0.5]"#, .init(field: "credits", message: "Must be an integer (got 7.25).")),
                (#""credits":"5","reason":"x""#, .init(field: "credits", message: "Must be an integer.")),
                (#""credits":5,"reason":7"#, .init(field: "reason", message: "Must be a string.")),
                (#""credits":5,"reason":"a\u0000b""#, .init(field: "reason", message: "Must not contain NUL (U+0000) characters.")),
            ]
            for (fields, expected) in cases {
                #expect(try Self.onlyError(try await grant(fields)) == expected, "\(fields)")
            }
            // A fraction that is an integer is one.
            #expect(try await grant(#""credits":1.5e1,"reason":"x""#).status == .created)

            let video = try await client.request(
                .post, "/v1/videos/", token: admin.accessToken,
                rawBody: #"{"title":"t","video_url":"https://cdn.example.com/v.mp4","duration_seconds":12.5}"#)
            #expect(try Self.onlyError(video) == .init(field: "duration_seconds", message: "Must be an integer (got 12.5)."))

            let nested = try await client.request(
                .post, "/v1/likes/check-batch", token: admin.accessToken, rawBody: #"{"video_ids":["\#(UUID())","x\u0000"]}"#)
            #expect(try Self.onlyError(nested).field == "video_ids[1]")
            let nulInUsername = try await client.request(
                .post, "/v1/auth/register", rawBody: #"{"email":"a@b.c","password":"12345678","username":"abc\u0000"}"#)
            #expect(try Self.onlyError(nulInUsername).field == "username")
            #expect(try await client.audit(admin: admin).mismatches.isEmpty)
        }
    }

    /// Five code points (man, ZWJ, woman, ZWJ, girl) that Swift counts as one `Character`.
    static let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}"

    @Test(arguments: TestDatabase.allCases)
    func textLimitsCountCodePointsAsTheDatabaseDoes(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let admin = try await client.registerAdmin()
            func grant(reason: String) async throws -> TestResponse {
                try await client.post(
                    "/v1/admin/credits/grants", token: admin.accessToken,
                    json: GrantBody(user_id: admin.id, credits: 1, reason: reason))
            }
            // 101 families: 101 characters to Swift, 505 code points to PostgreSQL's VARCHAR(500).
            let tooLong = try await grant(reason: String(repeating: Self.family, count: 101))
            #expect(try Self.onlyError(tooLong) == .init(field: "reason", message: "Must be 1 to 500 characters."))
            let farTooLong = try await grant(reason: String(repeating: Self.family, count: 500))
            #expect(try Self.onlyError(farTooLong).field == "reason")
            // 100 families are exactly 500 code points: they fit, and are stored whole.
            let fits = try await grant(reason: String(repeating: Self.family, count: 100))
            #expect(fits.status == .created, "\(fits.text)")
            #expect(try fits.decode(API.LedgerRow.self).description == String(repeating: Self.family, count: 100))

            let name = try await client.request(
                .patch, "/v1/users/me", token: admin.accessToken, json: ["display_name": String(repeating: Self.family, count: 21)])
            #expect(try Self.onlyError(name) == .init(field: "display_name", message: "Must be 1 to 100 characters."))
            let title = try await client.post(
                "/v1/videos/", token: admin.accessToken,
                json: TestClient.VideoBody(title: String(repeating: Self.family, count: 41), video_url: "https://cdn.example.com/v", duration_seconds: 5))
            #expect(try Self.onlyError(title).field == "title")
        }
    }

    struct GrantBody: Encodable, Sendable {
        var user_id: String
        var credits: Int
        var reason: String
    }

    @Test(arguments: TestDatabase.allCases)
    func aMebibyteOfBadIdsAnswersASmall422(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let me = try await client.register()
            // `{"video_ids":[` + n × `"x",` less the last comma + `]}`: as many ids as fit in 1 MiB.
            let count = ((1 << 20) - 15) / 4
            let body = #"{"video_ids":["# + Array(repeating: #""x""#, count: count).joined(separator: ",") + "]}"
            #expect(body.utf8.count <= 1 << 20)
            let response = try await client.request(.post, "/v1/likes/check-batch", token: me.accessToken, rawBody: body)
            let problem = try response.expectProblem(422, code: "validation_failed")
            let errors = try #require(problem.errors)
            #expect(errors.count == Problem.maxFieldErrors)
            #expect(errors.first == .init(field: "video_ids", message: "Must hold 1 to 100 ids."))
            #expect(errors.dropFirst().map(\.field) == (0..<19).map { "video_ids[\($0)]" })
            #expect(errors.last?.message == #"Must be a UUID, not "x"."#)
            #expect(problem.detail.hasSuffix(" and \(count + 1 - 20) more."), "\(problem.detail)")
            #expect(response.body.count < 4096, "\(response.body.count) bytes")

            // The same for a body of NULs, which is refused before it is decoded.
            let nuls = #"{"user_ids":["# + Array(repeating: #""\u0000""#, count: 1000).joined(separator: ",") + "]}"
            let nulErrors = try #require(
                try await client.request(.post, "/v1/follows/check-batch", token: me.accessToken, rawBody: nuls)
                    .expectProblem(422, code: "validation_failed").errors)
            #expect(nulErrors.map(\.field) == (0..<20).map { "user_ids[\($0)]" })
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func badIdsAreNamedWithTheirValueCutShort(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let me = try await client.register()
            let valid = UUID().uuidString
            let long = String(repeating: "z", count: 5000)
            let response = try await client.post(
                "/v1/follows/check-batch", token: me.accessToken, json: ["user_ids": [valid, "nope", valid, long]])
            let errors = try #require(try response.expectProblem(422, code: "validation_failed").errors)
            #expect(errors == [
                .init(field: "user_ids[1]", message: #"Must be a UUID, not "nope"."#),
                .init(field: "user_ids[3]", message: #"Must be a UUID, not ""# + String(repeating: "z", count: 39) + #"…"."#),
            ])
            // A key of the client's choosing is cut short too.
            let key = String(repeating: "k", count: 10_000)
            let keyed = try await client.request(.post, "/v1/likes/check-batch", token: me.accessToken, rawBody: #"{"\#(key)":"\u0000"}"#)
            let field = try Self.onlyError(keyed).field
            #expect(field.unicodeScalars.count == 200 && field.hasSuffix("…"))
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func onlyStrictJSONIsAccepted(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let me = try await client.register()
            let id = UUID().uuidString
            let lenient = [
                #"{"video_ids":["\#(id)"],}"#,
                #"{"video_ids":["\#(id)",]}"#,
                "{\"video_ids\":[\"\(id)\"]\n,\n}",
                #"{"video_ids":["\#(id)"]} /* comment */"#,
                #"{"video_ids":/* comment */["\#(id)"]}"#,
                "{\"video_ids\":[\"\(id)\"]} // comment",
                #"{'video_ids':['\#(id)']}"#,
                #"{video_ids:["\#(id)"]}"#,
                #"{"video_ids":["\#(id)"],"n":NaN}"#,
                #"{"video_ids":["\#(id)"],"n":Infinity}"#,
                #"{"video_ids":["\#(id)"],"n":-Infinity}"#,
                #"{"video_ids":["\#(id)"],"n":01}"#,
                #"{"video_ids":["\#(id)"],"n":0x10}"#,
                #"{"video_ids":["\#(id)"],"n":+1}"#,
                #"{"video_ids":["\#(id)"],"n":.5}"#,
                #"{"video_ids":["\#(id)"],"n":5.}"#,
                #"{"video_ids":["\#(id)"],"n":"\x"}"#,
                #"{"video_ids":["\#(id)"],"n":"\ud800"}"#,
                "{\"video_ids\":[\"\(id)\"],\"n\":\"a\tb\"}",
                "{\"video_ids\":[\"\(id)\"],\"n\":1}\u{0}",
                #"{"video_ids":["\#(id)"]}{}"#,
                #"{"video_ids":["\#(id)"]"#,
                String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
            ]
            for body in lenient {
                try await client.request(.post, "/v1/likes/check-batch", token: me.accessToken, rawBody: body)
                    .expectProblem(400, code: "invalid_json")
            }
            // Strict JSON with every kind of value, whitespace and escape, and numbers no field reads, is accepted.
            let strict = " \r\n\t{ \"video_ids\" : [ \"\(id)\" ] , \"extra\" : { \"a\" : [ 1.5e3, -0, 1e400, true, false, null, \"\\u00e9\\ud83d\\ude00\\/\\n\" ], \"b\" : { } , \"c\" : [ ] } } \n"
            let accepted = try await client.request(.post, "/v1/likes/check-batch", token: me.accessToken, rawBody: strict)
            #expect(accepted.status == .ok, "\(accepted.text)")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func storedURLsFollowTheURLRule(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let me = try await client.register()
            let refused: [(String, String)] = [
                ("https://127.0.0.1/a.png", "Must name a DNS host, not an IP address."),
                ("https://10.0.0.8:8443/a.png", "Must name a DNS host, not an IP address."),
                ("https://2130706433/a.png", "Must name a DNS host, not an IP address."),
                ("https://0x7f.1/a.png", "Must name a DNS host, not an IP address."),
                ("https://[::1]/a.png", "Must name a DNS host, not an IP address."),
                ("https://[fe80::1%25eth0]/a.png", "Must name a DNS host, not an IP address."),
                ("https://user@cdn.example.com/a.png", "Must not contain user info (name@ or name:password@)."),
                ("https://user:secret@cdn.example.com/a.png", "Must not contain user info (name@ or name:password@)."),
                ("https://localhost/a.png", "Must not be localhost."),
                ("https://LOCALHOST.:8443/a.png", "Must not be localhost."),
                ("https://api.localhost/a.png", "Must not be localhost."),
                ("https://cdn/a.png", "Must name a DNS host with a domain, such as cdn.example.com."),
                ("https://-cdn.example.com/a.png", "Must name a DNS host with a domain, such as cdn.example.com."),
                ("https://cdn.example.com:99999/a.png", "Has an invalid port."),
                ("https:///a.png", "Must name a host."),
                ("ftp://cdn.example.com/a.png", "Must be an http or https URL."),
                ("javascript:alert(1)", "Must be an http or https URL (absolute, with a host)."),
                ("//cdn.example.com/a.png", "Must be an http or https URL (absolute, with a host)."),
                (#"https://cdn.example.com\@evil.example/a.png"#, "Must be an http or https URL with only the characters RFC 3986 allows (percent-encode the others)."),
                ("https://cdn.example.com/a b.png", "Must be an http or https URL with only the characters RFC 3986 allows (percent-encode the others)."),
                ("https://cdn.example.com/%zz", "Must be an http or https URL with only the characters RFC 3986 allows (percent-encode the others)."),
                ("https://cdn.example.com/" + String(repeating: "a", count: 2025), "Must be at most 2048 characters."),
            ]
            for (url, message) in refused {
                let avatar = try await client.request(.patch, "/v1/users/me", token: me.accessToken, json: ["avatar_url": url])
                #expect(try Self.onlyError(avatar) == .init(field: "avatar_url", message: message), "\(url)")
                let video = try await client.post(
                    "/v1/videos/", token: me.accessToken, json: TestClient.VideoBody(title: "t", video_url: url, duration_seconds: 5))
                #expect(try Self.onlyError(video) == .init(field: "video_url", message: message), "\(url)")
                let thumbnail = try await client.request(
                    .post, "/v1/videos/", token: me.accessToken,
                    json: ["title": "t", "video_url": "https://cdn.example.com/v.mp4", "thumbnail_url": url])
                let thumbnailErrors = try #require(try thumbnail.expectProblem(422, code: "validation_failed").errors)
                #expect(thumbnailErrors.contains(.init(field: "thumbnail_url", message: message)), "\(url)")
            }
            let accepted = [
                "https://cdn.example.com/a.png",
                // Outside production, http too.
                "http://cdn.example.com/a.png",
                "HTTPS://CDN.Example.COM.:8443/a%20b.png?size=2&x=(1)#top",
                "https://xn--bcher-kva.example/a.png",
                "https://cdn.example.com/" + String(repeating: "a", count: 2024),
            ]
            for url in accepted {
                let response = try await client.request(.patch, "/v1/users/me", token: me.accessToken, json: ["avatar_url": url])
                #expect(response.status == .ok, "\(url): \(response.text)")
                #expect(try response.decode(API.Profile.self).avatarUrl == url)
            }
            #expect(try await client.get("/v1/users/\(me.id)").decode(API.Profile.self).videoCount == 0)
        }
    }

    /// In production only `https` passes; the rule comes from the configuration's `environment`.
    @Test func productionRefusesHTTP() {
        let production = URLRule(environment: .production)
        #expect(production.refusal(of: "http://cdn.example.com/a.png") == "Must be an https URL.")
        #expect(production.refusal(of: "https://cdn.example.com/a.png") == nil)
        #expect(production.refusal(of: "https://127.0.0.1/a.png") == "Must name a DNS host, not an IP address.")
        #expect(URLRule(environment: .development).refusal(of: "http://cdn.example.com/a.png") == nil)
    }
}
