import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

/// `/` serves the web client shipped with the server: revalidated by ETag, under a policy that lets the page run only
/// its own code; the API keeps its own answers under `/v1`.
@Suite("Web app: files at /, their headers, the payment configuration")
struct WebAppServingTests {
    static let developmentPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-src 'none'; "
        + "img-src 'self' https: http:; media-src 'self' https: http:; object-src 'none'; base-uri 'none'; "
        + "form-action 'self'; frame-ancestors 'none'"

    @Test(arguments: TestDatabase.allCases)
    func theShippedAppIsServedAtTheRootWithItsPolicy(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let page = try await client.get("/")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[.contentSecurityPolicy] == Self.developmentPolicy)
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(page.headers[.cacheControl] == "no-cache")
            #expect(page.text.contains(#"<script type="module" src="/js/main.js"></script>"#))
            let etag = try #require(page.headers[.eTag])

            let revalidated = try await client.request(.get, "/", headers: [.ifNoneMatch: etag])
            #expect(revalidated.status == .notModified)
            #expect(revalidated.text.isEmpty)

            let script = try await client.get("/js/main.js")
            #expect(script.status == .ok)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(script.headers[.contentSecurityPolicy] == Self.developmentPolicy)

            // Outside /v1 an unknown path is a problem like any other; under /v1 the API's 404 never looks for a file.
            try await client.get("/no-such-page").expectProblem(404, code: "not_found")
            let api = try await client.get("/v1/no-such-thing")
            try api.expectProblem(404, code: "not_found")
            #expect(api.headers[.contentSecurityPolicy] == nil)
            try await client.get("/../Package.swift").expectProblem(400, code: "bad_request")

            let config = try await client.get("/v1/payments/config")
            #expect(config.status == .ok)
            #expect(config.text == #"{"gateway":"mock","publishable_key":null}"#)
            // The API docs page keeps its own policy, which lets Swagger UI's CDN in.
            let docs = try await client.get("/docs")
            #expect(docs.headers[.contentSecurityPolicy]?.contains("https://cdn.jsdelivr.net") == true)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func stripeModeHandsOutThePublishableKeyAndLetsStripeJSIn(_ database: TestDatabase) async throws {
        let settings = [
            "payment.gateway": "stripe", "stripe.secret.key": "sk_test_123", "stripe.webhook.secret": "whsec_test",
            "stripe.publishable.key": "pk_test_abc",
        ]
        try await TestApp.run(database, settings: settings) { client in
            let config = try await client.get("/v1/payments/config")
            #expect(config.text == #"{"gateway":"stripe","publishable_key":"pk_test_abc"}"#)
            let policy = try #require(try await client.get("/").headers[.contentSecurityPolicy])
            #expect(policy.contains("script-src 'self' https://js.stripe.com;"))
            #expect(policy.contains("connect-src 'self' https://api.stripe.com;"))
            #expect(policy.contains("frame-src https://js.stripe.com https://hooks.stripe.com;"))
        }
    }

    /// Production serves media over https only, as the URL rule stores them.
    @Test func productionPolicyAllowsOnlyHTTPSMedia() {
        let policy = WebAppMiddleware.contentSecurityPolicy(stripe: false, allowsHTTPMedia: false)
        #expect(policy.contains("img-src 'self' https:; media-src 'self' https:;"))
        #expect(!policy.contains("http:"))
    }

    /// WEB_APP_DIRECTORY serves a folder as it is on disk, so an edit shows on the next reload.
    @Test func aConfiguredDirectoryIsServedAsItIsOnDisk() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reelbase-web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("<!doctype html><title>first</title>".utf8).write(to: folder.appendingPathComponent("index.html"))
        try await TestApp.run(.sqlite, settings: ["web.app.directory": folder.path]) { client in
            #expect(try await client.get("/").text == "<!doctype html><title>first</title>")
            try Data("<!doctype html><title>second edit</title>".utf8).write(to: folder.appendingPathComponent("index.html"))
            #expect(try await client.get("/").text == "<!doctype html><title>second edit</title>")
        }
    }
}
