import Foundation
import NIOCore
import NIOPosix

/// One Server-Sent Event as a client parses it.
struct SSEEvent: Sendable, Equatable {
    var id: String?
    var event: String
    var data: String
}

/// What a stream sends: an event, or a comment line (the heartbeat).
enum SSEFrame: Sendable, Equatable {
    case event(SSEEvent)
    case comment(String)
}

/// A client of `GET /v1/events` on a socket: sends the request, decodes the chunked body, and parses SSE frames, so
/// that tests see exactly what an `EventSource` would. A watchdog closes the connection after `limit`, so a stream that
/// never sends what a test waits for fails the test instead of hanging it.
struct EventStreamClient {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var raw: [UInt8] = []
    private var text = ""
    /// The response head, once read.
    private(set) var head = ""

    /// The status code of the response.
    var status: Int? {
        self.head.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) }
    }

    /// Opens `path` with `headers` and runs `body` with the stream once its response head arrived; `body` may read
    /// frames until the server closes.
    static func with<R: Sendable>(
        port: Int, path: String = "/v1/events", headers: [String: String] = [:], limit: Duration = .seconds(30),
        _ body: (inout EventStreamClient) async throws -> R
    ) async throws -> R {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        let watchdog = Task {
            try await Task.sleep(for: limit)
            try await channel.channel.close()
        }
        defer { watchdog.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            var client = EventStreamClient(outbound: outbound, inbound: inbound.makeAsyncIterator())
            // One request per connection: an answer that is no stream (a 401) then ends with the connection.
            var request = "GET \(path) HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nConnection: close\r\n"
            for (name, value) in headers { request += "\(name): \(value)\r\n" }
            try await outbound.write(ByteBuffer(string: request + "\r\n"))
            try await client.readHead()
            // The stream sends `retry:` once it is subscribed and positioned: from then on nothing committed is missed.
            if client.status == 200 { try await client.readOpening() }
            return try await body(&client)
        }
    }

    private mutating func readHead() async throws {
        while true {
            if let end = Self.find([13, 10, 13, 10], in: self.raw) {
                self.head = String(decoding: self.raw[..<end], as: UTF8.self)
                self.raw.removeFirst(end + 4)
                return
            }
            guard let chunk = try await self.inbound.next() else { throw TestSetupError("the stream closed before its head") }
            self.raw += chunk.readableBytesView
        }
    }

    private mutating func readOpening() async throws {
        while true {
            self.decodeChunks()
            if let start = self.text.range(of: "retry:"), let end = self.text.range(of: "\n\n", range: start.upperBound..<self.text.endIndex) {
                self.text.removeSubrange(..<end.upperBound)
                return
            }
            guard let chunk = try await self.inbound.next() else { throw TestSetupError("the stream closed before it opened") }
            self.raw += chunk.readableBytesView
        }
    }

    /// The response body as a whole, for an answer that is no stream (a `401` problem).
    mutating func bodyText() async throws -> String {
        while let chunk = try await self.inbound.next() { self.raw += chunk.readableBytesView }
        self.decodeChunks()
        return self.text.isEmpty ? String(decoding: self.raw, as: UTF8.self) : self.text
    }

    /// The next frame, `nil` once the server ended the stream (or the watchdog closed it). `retry:`-only blocks are skipped.
    mutating func nextFrame() async throws -> SSEFrame? {
        while true {
            self.decodeChunks()
            if let end = self.text.range(of: "\n\n") {
                let block = String(self.text[..<end.lowerBound])
                self.text.removeSubrange(..<end.upperBound)
                if let frame = Self.parse(block) { return frame }
                continue
            }
            do {
                guard let chunk = try await self.inbound.next() else { return nil }
                self.raw += chunk.readableBytesView
            } catch {
                return nil
            }
        }
    }

    /// The next event, skipping heartbeats; `nil` once the stream ended.
    mutating func nextEvent() async throws -> SSEEvent? {
        while let frame = try await self.nextFrame() {
            if case .event(let event) = frame { return event }
        }
        return nil
    }

    /// Events until one of type `type` arrived (included).
    mutating func events(through type: String) async throws -> [SSEEvent] {
        var events: [SSEEvent] = []
        while let event = try await self.nextEvent() {
            events.append(event)
            if event.event == type { return events }
        }
        throw TestSetupError("the stream ended before a \(type) event; got \(events.map(\.event))")
    }

    /// Takes whole chunks of the chunked body off `raw` into `text`.
    private mutating func decodeChunks() {
        while let lineEnd = Self.find([13, 10], in: self.raw) {
            let sizeText = String(decoding: self.raw[..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return }
            guard self.raw.count >= lineEnd + 2 + size + 2 else { return }
            let start = lineEnd + 2
            self.text += String(decoding: self.raw[start..<start + size], as: UTF8.self)
            self.raw.removeFirst(start + size + 2)
        }
    }

    private static func parse(_ block: String) -> SSEFrame? {
        var id: String?
        var event = "message"
        var data: [String] = []
        var comment: String?
        for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(":") {
                comment = String(line.dropFirst()).trimmingCharacters(in: .whitespaces)
                continue
            }
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let field = String(parts[0])
            let value = parts.count > 1 ? String(parts[1].drop { $0 == " " }) : ""
            switch field {
            case "id": id = value
            case "event": event = value
            case "data": data.append(value)
            default: continue
            }
        }
        if !data.isEmpty { return .event(SSEEvent(id: id, event: event, data: data.joined(separator: "\n"))) }
        return comment.map(SSEFrame.comment)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if Array(haystack[index..<index + needle.count]) == needle { return index }
        }
        return nil
    }
}

extension SSEEvent {
    /// The event's data decoded as `type`.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try API.decoder.decode(T.self, from: Data(self.data.utf8))
    }
}
