import Foundation
import HTTPTypes
import Testing

@testable import Reelbase

/// The client address the per-address limits count: the peer's, or `X-Forwarded-For` behind a trusted proxy.
@Suite("Rate limits: client address, TRUSTED_PROXIES and X-Forwarded-For")
struct ClientAddressTests {
    static let proxies = try? TrustedProxies(parsing: "10.0.0.0/8, 192.0.2.1, 2001:db8::/32")

    static func client(peer: String?, _ forwardedFor: [String]) throws -> String {
        let proxies = try #require(Self.proxies)
        return proxies.clientAddress(peer: peer.flatMap { IPAddress($0) }, forwardedFor: forwardedFor)
    }

    @Test func thePeerCountsUnlessItIsATrustedProxy() throws {
        #expect(try Self.client(peer: "203.0.113.5", ["198.51.100.1"]) == "203.0.113.5")
        #expect(try Self.client(peer: "10.1.2.3", []) == "10.1.2.3")
        #expect(try Self.client(peer: "10.1.2.3", ["198.51.100.1"]) == "198.51.100.1")
        #expect(try Self.client(peer: "2001:db8::7", ["198.51.100.1"]) == "198.51.100.1")
        #expect(try Self.client(peer: "2001:db9::7", ["198.51.100.1"]) == "2001:db9::7")
        // IPv4-mapped IPv6 is the IPv4 address, for matching and as the subject.
        #expect(try Self.client(peer: "::ffff:10.0.0.1", ["198.51.100.1"]) == "198.51.100.1")
        #expect(try Self.client(peer: "::ffff:203.0.113.5", []) == "203.0.113.5")
        // One address, one spelling.
        #expect(try Self.client(peer: "2001:0db9:0:0::1", []) == "2001:db9::1")
        // No socket, no address: one shared subject, never a trusted proxy.
        #expect(try Self.client(peer: nil, ["198.51.100.1"]) == "unknown")
    }

    @Test func theRightMostUntrustedEntryCounts() throws {
        // What the client wrote itself (left of what the proxies added) is never believed.
        #expect(try Self.client(peer: "10.0.0.1", ["1.1.1.1, 198.51.100.1"]) == "198.51.100.1")
        #expect(try Self.client(peer: "10.0.0.1", ["1.1.1.1, 198.51.100.1, 10.9.9.9"]) == "198.51.100.1")
        // Several header fields are one list, in order.
        #expect(try Self.client(peer: "10.0.0.1", ["1.1.1.1", "198.51.100.1", "192.0.2.1"]) == "198.51.100.1")
        // All trusted: the farthest hop known.
        #expect(try Self.client(peer: "10.0.0.1", ["10.0.0.2, 192.0.2.1"]) == "10.0.0.2")
        // Ports, as some proxies write them.
        #expect(try Self.client(peer: "10.0.0.1", ["198.51.100.1:4711"]) == "198.51.100.1")
        #expect(try Self.client(peer: "10.0.0.1", ["[2001:db9::1]:443"]) == "2001:db9::1")
        // No address: counted as written, not under the proxy that every client behind it shares.
        #expect(try Self.client(peer: "10.0.0.1", ["unknown"]) == "unknown")
        #expect(try Self.client(peer: "10.0.0.1", [String(repeating: "x", count: 500)]).count == 64)
    }

    @Test func networksMatchTheirPrefix() throws {
        let network = try #require(IPNetwork("192.168.4.0/22"))
        #expect(network.contains(try #require(IPAddress("192.168.7.255"))))
        #expect(!network.contains(try #require(IPAddress("192.168.8.0"))))
        #expect(network.contains(try #require(IPAddress("::ffff:c0a8:0700"))), "IPv4-mapped 192.168.7.0")
        #expect(try #require(IPNetwork("0.0.0.0/0")).contains(try #require(IPAddress("203.0.113.9"))))
        #expect(!(try #require(IPNetwork("0.0.0.0/0")).contains(try #require(IPAddress("::1")))))
        #expect(IPNetwork("192.168.4.0/33") == nil && IPNetwork("::/129") == nil && IPNetwork("300.1.1.1") == nil)
        #expect(IPNetwork("10.0.0") == nil && IPNetwork("proxy.local") == nil && IPNetwork("10.0.0.0/x") == nil)
    }

    /// A real socket (``LiveServer``): the peer is 127.0.0.1, and its X-Forwarded-For counts only when it is trusted.
    @Test(arguments: TestDatabase.allCases)
    func forwardedForCountsBehindATrustedProxy(_ database: TestDatabase) async throws {
        try await Self.runLive(database, settings: ["rate.limits": "register_ip=1/1h", "trusted.proxies": "127.0.0.1"]) { client in
            #expect(try await client.registration(email: "a@example.com", forwardedFor: "203.0.113.7").status == .created)
            try await client.registration(email: "b@example.com", forwardedFor: "203.0.113.7").expectProblem(429, code: "rate_limited")
            // Prepending an address changes nothing; the trusted hop is skipped.
            try await client.registration(email: "c@example.com", forwardedFor: "198.51.100.1, 203.0.113.7").expectProblem(429, code: "rate_limited")
            try await client.registration(email: "d@example.com", forwardedFor: "203.0.113.7, 127.0.0.1").expectProblem(429, code: "rate_limited")
            #expect(try await client.registration(email: "e@example.com", forwardedFor: "203.0.113.7, 198.51.100.2").status == .created)
            // Without the header, the proxy itself is the client.
            #expect(try await client.registration(email: "f@example.com").status == .created)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func forwardedForIsIgnoredFromAnUntrustedPeer(_ database: TestDatabase) async throws {
        try await Self.runLive(database, settings: ["rate.limits": "register_ip=1/1h"]) { client in
            #expect(try await client.registration(email: "a@example.com", forwardedFor: "203.0.113.7").status == .created)
            try await client.registration(email: "b@example.com", forwardedFor: "203.0.113.8").expectProblem(429, code: "rate_limited")
            try await client.registration(email: "c@example.com").expectProblem(429, code: "rate_limited")
        }
    }

    /// The test app over a real socket on a free port, so that requests have a peer address.
    static func runLive(
        _ database: TestDatabase, settings: [String: String], _ body: @escaping @Sendable (TestClient) async throws -> Void
    ) async throws {
        try await TestApp.withFreshDatabase(database) { url in
            let configuration = try TestApp.configuration(databaseURL: url, settings: settings)
            let app = try await buildApplication(configuration: configuration, logger: TestApp.logger)
            try await LiveServer.run(app, databaseURL: url) { client, _ in try await body(client) }
        }
    }
}

extension TestClient {
    func registration(email: String, forwardedFor: String) async throws -> TestResponse {
        try await self.registration(email: email, headers: [.xForwardedFor: forwardedFor])
    }
}
