import Foundation
import HummingbirdTesting
import NIOCore
import NIOPosix
import Testing

@testable import Reelbase

/// The connection deadlines (API.md, Operations: connections), seen over raw sockets against a live server with the
/// knobs short: head 1 s, body 1 s, idle 5 s. Idle is far longer than head on purpose, so that a close tells which
/// deadline it was even on a loaded machine. A close must never come before its deadline; it may come late by up
/// to ``late`` (timers and this test's own reads wait for a core). HTTP only: the database plays no part, so SQLite.
@Suite("HTTP: connection deadlines")
struct ConnectionTimeoutTests {
    static let settings = ["request.head.timeout": "1", "request.body.timeout": "1", "idle.timeout": "5"]
    static let late: Duration = .seconds(4)

    @Test func aConnectionThatSendsNoCompleteHeadIsClosedAfterTheHeadTimeout() async throws {
        try await Self.live { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
                let (received, elapsed) = try await connection.untilClosed()
                #expect(received.isEmpty)
                #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(1) + Self.late, "closed after \(elapsed)")
            }
        }
    }

    @Test func aBodyNotCompleteInTimeIsAnswered408AndClosed() async throws {
        try await Self.live { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.send(
                    "POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 40\r\n"
                        + "X-Request-Id: slow-body-1\r\n\r\n{\"email\":")
                let (received, elapsed) = try await connection.untilClosed()
                #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(1) + Self.late, "answered after \(elapsed)")
                let (head, body) = try #require(RawConnection.split(received))
                #expect(head.hasPrefix("HTTP/1.1 408 "))
                #expect(head.lowercased().contains("content-type: application/problem+json"))
                #expect(head.lowercased().contains("connection: close"))
                #expect(head.lowercased().contains("x-request-id: slow-body-1"))
                let problem = try JSONDecoder().decode(API.Problem.self, from: Data(body.utf8))
                #expect(problem.status == 408 && problem.code == "request_timeout")
            }
        }
    }

    @Test func aBodySentInPartsWithinTheTimeoutIsAnsweredNormally() async throws {
        try await Self.live { port in
            try await RawConnection.with(port: port) { connection in
                let body = #"{"email":"nobody@example.com","password":"wrong-password"}"#
                let half = body.index(body.startIndex, offsetBy: body.count / 2)
                try await connection.send(
                    "POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n\(body[..<half])")
                try await Task.sleep(for: .milliseconds(100))
                try await connection.send(String(body[half...]))
                let head = try #require(try await connection.response())
                #expect(head.hasPrefix("HTTP/1.1 401 "))
            }
        }
    }

    @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
        try await Self.live { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                #expect(try await connection.response()?.hasPrefix("HTTP/1.1 200 ") == true)
                let (received, elapsed) = try await connection.untilClosed()
                #expect(received.isEmpty)
                // Not at the head timeout (1 s): an idle connection has started no request.
                #expect(elapsed >= .milliseconds(4900) && elapsed < .seconds(5) + Self.late, "closed after \(elapsed)")
            }
        }
    }

    @Test func aKeepAliveConnectionThatStartsAHeadHasTheHeadTimeout() async throws {
        try await Self.live { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                #expect(try await connection.response()?.hasPrefix("HTTP/1.1 200 ") == true)
                try await connection.send("GET /healthz HTTP/1.1\r\nHost: loc")
                let (received, elapsed) = try await connection.untilClosed()
                #expect(received.isEmpty)
                // Before the idle deadline (5 s): the request it has started is held to the head deadline.
                #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(5), "closed after \(elapsed)")
            }
        }
    }

    /// Runs `body` with the port of a live server on a fresh SQLite database with the short deadlines.
    private static func live(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await TestApp.withFreshDatabase(.sqlite) { url in
            let configuration = try TestApp.configuration(databaseURL: url, settings: Self.settings)
            let app = try await buildApplication(configuration: configuration, logger: TestApp.logger)
            try await app.test(.live) { client in
                try await body(try #require(client.port))
            }
        }
    }
}

/// One TCP connection that writes exactly the bytes given and reads what comes back, for what HTTP clients hide:
/// half-sent heads, stalled bodies, idle keep-alive connections.
private struct RawConnection {
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    var buffered = ""

    /// Connects to 127.0.0.1:`port`; a watchdog closes the connection after 20 s so that a test never hangs.
    static func with(port: Int, _ body: (inout RawConnection) async throws -> Void) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(20))
            try await channel.channel.close()
        }
        defer { watchdog.cancel() }
        try await channel.executeThenClose { inbound, outbound in
            var connection = RawConnection(outbound: outbound, inbound: inbound.makeAsyncIterator())
            try await body(&connection)
        }
    }

    func send(_ text: String) async throws {
        try await self.outbound.write(ByteBuffer(string: text))
    }

    /// Reads one response's head (and its `Content-Length` body), `nil` if the server closes first.
    mutating func response() async throws -> String? {
        while true {
            if let (head, body) = Self.split(self.buffered), let length = Self.contentLength(head), body.utf8.count >= length {
                self.buffered = String(body.utf8.dropFirst(length)) ?? ""
                return head
            }
            guard let chunk = try await self.inbound.next() else { return nil }
            self.buffered += String(buffer: chunk)
        }
    }

    /// Reads until the server closes: what arrived meanwhile, and how long it took from this call.
    mutating func untilClosed() async throws -> (received: String, elapsed: Duration) {
        let started = ContinuousClock.now
        var received = self.buffered
        self.buffered = ""
        while let chunk = try await self.inbound.next() { received += String(buffer: chunk) }
        return (received, ContinuousClock.now - started)
    }

    /// A response split at the blank line after its head.
    static func split(_ response: String) -> (head: String, body: String)? {
        guard let end = response.range(of: "\r\n\r\n") else { return nil }
        return (String(response[..<end.lowerBound]), String(response[end.upperBound...]))
    }

    private static func contentLength(_ head: String) -> Int? {
        head.split(separator: "\r\n").lazy.compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }.first
    }
}
