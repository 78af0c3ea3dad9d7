import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import Testing

@testable import Reelbase

/// The connection deadlines (API.md, Operations: connections), seen over raw sockets against a live server. Each test
/// shortens only the deadlines it is about, to 1 or 2 s, and leaves the others at their defaults (30 s and more), so
/// that a close can only be the deadline under test. A close must never come before its deadline; it may come late by
/// up to ``late`` (timers and this test's own reads wait for a core). HTTP only: the database plays no part, so SQLite.
@Suite("HTTP: connection deadlines")
struct ConnectionTimeoutTests {
    static let late: Duration = .seconds(4)

    @Test func aConnectionThatSendsNoCompleteHeadIsClosedAfterTheHeadTimeout() async throws {
        try await Self.live(["request.head.timeout": "1"]) { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
                let (received, elapsed) = try await connection.untilClosed()
                #expect(received.isEmpty)
                Self.expect(elapsed, closedAfter: .seconds(1))
            }
        }
    }

    @Test func aBodyNotCompleteInTimeIsAnswered408AndClosed() async throws {
        try await Self.live(["request.body.timeout": "1"]) { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.send(
                    "POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 40\r\n"
                        + "X-Request-Id: slow-body-1\r\n\r\n{\"email\":")
                let (received, elapsed) = try await connection.untilClosed()
                Self.expect(elapsed, closedAfter: .seconds(1))
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

    /// The body deadline runs from the head and the head deadline stops at it: a body sent in parts is answered.
    @Test func aBodySentInPartsWithinTheTimeoutIsAnsweredNormally() async throws {
        try await Self.live(["request.head.timeout": "1", "request.body.timeout": "2"]) { port in
            try await RawConnection.with(port: port) { connection in
                let body = #"{"email":"nobody@example.com","password":"wrong-password"}"#
                let half = body.index(body.startIndex, offsetBy: body.count / 2)
                try await connection.send(
                    "POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n\(body[..<half])")
                try await Task.sleep(for: .milliseconds(200))
                try await connection.send(String(body[half...]))
                let head = try #require(try await connection.response())
                #expect(head.hasPrefix("HTTP/1.1 401 "))
            }
        }
    }

    /// Closed at the idle deadline, not the head deadline (30 s here): an idle connection has started no request.
    @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
        try await Self.live(["idle.timeout": "1"]) { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                #expect(try await connection.response()?.hasPrefix("HTTP/1.1 200 ") == true)
                let (received, elapsed) = try await connection.untilClosed()
                #expect(received.isEmpty)
                Self.expect(elapsed, closedAfter: .seconds(1))
            }
        }
    }

    /// Past the idle deadline (1 s) and closed at the head deadline (2 s): the request it has started is held to the
    /// head deadline instead.
    @Test func aKeepAliveConnectionThatStartsAHeadHasTheHeadTimeout() async throws {
        try await Self.live(["request.head.timeout": "2", "idle.timeout": "1"]) { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                #expect(try await connection.response()?.hasPrefix("HTTP/1.1 200 ") == true)
                try await connection.send("GET /healthz HTTP/1.1\r\nHost: loc")
                let (received, elapsed) = try await connection.untilClosed()
                #expect(received.isEmpty)
                Self.expect(elapsed, closedAfter: .seconds(2))
            }
        }
    }

    /// The exemption of event streams: a response that takes longer than every deadline, silent for most of it, is
    /// written to its end; the connection is idle, and closed at the idle deadline, only after it.
    @Test func aLongSilentResponseOutlastsEveryDeadline() async throws {
        var configuration = AppConfiguration()
        (configuration.requestHeadTimeout, configuration.requestBodyTimeout, configuration.idleTimeout) = (1, 1, 1)
        let router = Router()
        router.get("stream") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "data: first\n\n"))
                    try await Task.sleep(for: .milliseconds(2500))
                    try await writer.write(ByteBuffer(string: "data: last\n\n"))
                    try await writer.finish(nil)
                })
        }
        let app = Application(
            router: router, server: .http1(timeouts: ConnectionTimeouts(configuration)),
            logger: TestApp.logger)
        try await LiveServer.run(app) { port in
            try await RawConnection.with(port: port) { connection in
                try await connection.send("GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
                let (received, elapsed) = try await connection.untilClosed()
                #expect(received.hasPrefix("HTTP/1.1 200 "))
                #expect(received.contains("data: first") && received.contains("data: last"), "\(received)")
                Self.expect(elapsed, closedAfter: .milliseconds(3500))
            }
        }
    }

    /// A close at `deadline` after the last bytes sent: never before it (less timer slack), at most ``late`` after.
    private static func expect(_ elapsed: Duration, closedAfter deadline: Duration, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(elapsed >= deadline - .milliseconds(100) && elapsed < deadline + Self.late, "closed after \(elapsed)",
            sourceLocation: sourceLocation)
    }

    /// Runs `body` with the port of a live server on a fresh SQLite database with these deadlines shortened.
    private static func live(_ settings: [String: String], _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await TestApp.withFreshDatabase(.sqlite) { url in
            let configuration = try TestApp.configuration(databaseURL: url, settings: settings)
            let app = try await buildApplication(configuration: configuration, logger: TestApp.logger)
            try await LiveServer.run(app, body)
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
