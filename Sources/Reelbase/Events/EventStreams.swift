import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SQLKit

/// The Server-Sent Events stream of `GET /v1/events` (API.md, "Events"), written through Hummingbird's response body
/// writer; the HTTP framing is Hummingbird's, the lines are SSE's.
///
/// A stream reads everything it sends from the user's outbox (``EventOutbox``), after a cursor: the number of the last
/// event it sent. Wake-ups (``EventBus``) only say when to look, so the stream of any instance sends every committed
/// event exactly once and in order, and a resumption replays from the same table. Streams are registered in
/// `event_streams` so that the limit of five per user holds across instances: opening a sixth tells the oldest,
/// wherever it is, to close, through the outbox.
struct EventStreams: Sendable {
    let database: Database
    let replayWindow: TimeInterval
    let heartbeat: Duration
    let logger: Logger

    /// API.md: at most five open streams per user.
    static let perUser = 5
    /// Events read per outbox query; a stream behind by more reads again at once.
    static let batch = 100

    private var outbox: EventOutbox { EventOutbox(dialect: self.database.dialect) }

    /// Who a stream is for, and where it resumes.
    struct Request: Sendable {
        var userID: UUID
        var sessionID: UUID
        /// `Last-Event-ID` or `?last_event_id=`, as sent.
        var lastEventID: String?
    }

    /// The `200 text/event-stream` response; the stream runs while Hummingbird writes its body.
    func response(for request: Request) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        // nginx buffers proxied responses unless told otherwise (STACK-NOTES: `proxy_buffering off`, or this).
        headers[.xAccelBuffering] = "no"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            await self.run(request, writer: &writer)
            try? await writer.finish(nil)
        })
    }

    /// Sends the stream until it is told to close, the client goes away or the server shuts down.
    private func run(_ request: Request, writer: inout any ResponseBodyWriter) async {
        let streamID = UUID()
        let bus = self.database.eventBus
        // Subscribed before the cursor is read: an event committed in between wakes the stream, which then finds it.
        let signals = bus.subscribe(userID: request.userID, streamID: streamID)
        defer { bus.unsubscribe(streamID, userID: request.userID) }
        do {
            let (start, reset) = try await self.start(request)
            try await self.register(streamID, userID: request.userID)
            // `retry:` tells EventSource how soon to reconnect; it also sends the response head on its way at once.
            var opening = "retry: 2000\n\n"
            if reset { opening += "event: reset\ndata: {}\n\n" }
            try await writer.write(ByteBuffer(string: opening))
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // The heartbeat only rings the stream's own signals; the loop below writes it. It ends when the
                    // group is cancelled, without an error.
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: self.heartbeat)
                            if Task.isCancelled { return }
                            bus.signal(.heartbeat, streamID: streamID, userID: request.userID)
                        }
                    }
                    defer { group.cancelAll() }
                    // A resumption replays at once; a live stream usually finds nothing here.
                    guard var cursor = try await self.deliver(after: start, streamID: streamID, request: request, writer: &writer) else {
                        return
                    }
                    for await signal in signals {
                        switch signal {
                        case .heartbeat:
                            try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                            // Also a look at the outbox: a wake-up lost (a crash between a commit and its NOTIFY)
                            // delays an event by one heartbeat at most.
                            guard let delivered = try await self.deliver(after: cursor, streamID: streamID, request: request, writer: &writer)
                            else { return }
                            cursor = delivered
                        case .wake:
                            guard let delivered = try await self.deliver(after: cursor, streamID: streamID, request: request, writer: &writer)
                            else { return }
                            cursor = delivered
                        }
                    }
                }
            } onGracefulShutdown: {
                // SIGTERM does not wait for streams: ending the signals ends the loop, the body and the response.
                bus.unsubscribe(streamID, userID: request.userID)
            }
        } catch {
            // A client gone away, or the database: either way the stream ends and the client reconnects with its id.
            self.logger.debug("event stream ended", metadata: ["error": .string(String(reflecting: error))])
        }
        try? await self.unregister(streamID)
    }

    /// Where the stream starts: after the resumed id when it can be replayed, else live (with `reset` when an id was
    /// sent that cannot: unknown, not the caller's, or older than the replay window).
    private func start(_ request: Request) async throws -> (cursor: Int, reset: Bool) {
        let live = try await self.outbox.lastSeq(of: request.userID, on: self.database.sql)
        guard let text = request.lastEventID, !text.isEmpty else { return (live, false) }
        guard let seq = EventID(text, userID: request.userID)?.seq, seq <= live else { return (live, true) }
        let since = Date().addingTimeInterval(-self.replayWindow)
        let resumable = try await self.outbox.isResumable(seq, of: request.userID, since: since, on: self.database.sql)
        return resumable ? (seq, false) : (live, true)
    }

    /// Writes the user's events after `cursor`; returns the new cursor, or `nil` when one of them closes this stream.
    private func deliver(after cursor: Int, streamID: UUID, request: Request, writer: inout any ResponseBodyWriter) async throws -> Int? {
        var cursor = cursor
        while true {
            let events = try await self.outbox.events(of: request.userID, after: cursor, limit: Self.batch, on: self.database.sql)
            // Notifications are rendered now, all of the batch in one statement, as the list would show them now.
            let referenced = events.filter { $0.kind == .notification }.compactMap {
                try? JSONCoding.decoder.decode(NotificationReference.self, from: Data($0.payload.utf8)).id
            }
            let notifications = try await SQLNotificationStore(database: self.database).views(referenced, recipientID: request.userID)
            var frames = ""
            for event in events {
                cursor = event.seq
                switch event.kind {
                case .close:
                    let closure = try? JSONCoding.decoder.decode(StreamClosure.self, from: Data(event.payload.utf8))
                    if closure?.ends(stream: streamID, session: request.sessionID) == true {
                        if !frames.isEmpty { try await writer.write(ByteBuffer(string: frames)) }
                        return nil
                    }
                case .notification:
                    // One the recipient cannot see now (its actor blocked or suspended since) is not sent, like the list.
                    guard let reference = try? JSONCoding.decoder.decode(NotificationReference.self, from: Data(event.payload.utf8)),
                        let view = notifications[reference.id]
                    else { continue }
                    frames += Self.frame(seq: event.seq, kind: .notification, data: view, userID: request.userID)
                case .some(let kind):
                    frames += Self.frame(seq: event.seq, kind: kind, data: event.payload, userID: request.userID)
                case nil:
                    // A kind of a newer version of the server, during a rolling upgrade: not this stream's to send.
                    continue
                }
            }
            if !frames.isEmpty { try await writer.write(ByteBuffer(string: frames)) }
            if events.count < Self.batch { return cursor }
        }
    }

    private static func frame(seq: Int, kind: EventKind, data: String, userID: UUID) -> String {
        "id: \(EventID(seq: seq, userID: userID).text)\nevent: \(kind.rawValue)\ndata: \(data)\n\n"
    }

    /// Records the stream and tells the user's streams beyond the newest five to close (on any instance).
    private func register(_ streamID: UUID, userID: UUID) async throws {
        let dialect = self.database.dialect
        try await self.database.transaction { connection in
            // Takes the user's event counter row (changing nothing), so that two streams opening at once on two instances
            // count each other: the second waits for the first to commit, then sees six.
            try await connection.raw(
                """
                INSERT INTO event_sequences (user_id, last_seq) VALUES (\(bind: userID), 0)
                ON CONFLICT (user_id) DO UPDATE SET last_seq = event_sequences.last_seq
                """
            ).run()
            try await connection.raw(
                "INSERT INTO event_streams (id, user_id, opened_at) VALUES (\(bind: streamID), \(bind: userID), \(dialect.now))"
            ).run()
            let surplus = try await connection.raw(
                """
                SELECT id FROM event_streams WHERE user_id = \(bind: userID)
                ORDER BY opened_at DESC, id DESC LIMIT 1000 OFFSET \(bind: Self.perUser)
                """
            ).all(decodingColumn: "id", as: UUID.self)
            guard !surplus.isEmpty else { return }
            try await connection.raw("DELETE FROM event_streams WHERE \(dialect.column("id", isIn: surplus))").run()
            for oldest in surplus {
                try await EventOutbox(dialect: dialect).append(.close, payload: StreamClosure.stream(oldest), for: userID, on: connection)
            }
        }
    }

    /// Housekeeping: events past the replay window (a resumption after them gets `reset` anyway) and expired tickets.
    func prune(now: Date = Date()) async throws {
        try await self.outbox.prune(createdBefore: now.addingTimeInterval(-self.replayWindow), on: self.database.sql)
        try await EventTicketStore(database: self.database).prune(now: now)
    }

    private func unregister(_ streamID: UUID) async throws {
        try await self.database.sql.raw("DELETE FROM event_streams WHERE id = \(bind: streamID)").run()
    }
}

/// The `id:` of an event: the user's event number, then the first 8 hex digits of the user's id, so that an id from
/// another account (a browser shared by two) is told apart from one of the caller's and answered with `reset`.
/// Numbers increase per user; clients only echo the text.
struct EventID: Sendable, Equatable {
    var seq: Int
    var tag: String

    init(seq: Int, userID: UUID) {
        self.seq = seq
        self.tag = Self.tag(of: userID)
    }

    /// The id `text` spells if it is one of `userID`'s.
    init?(_ text: String, userID: UUID) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let seq = Int(parts[0]), seq > 0, parts[1] == Self.tag(of: userID) else { return nil }
        self.seq = seq
        self.tag = String(parts[1])
    }

    var text: String { "\(self.seq)-\(self.tag)" }

    private static func tag(of userID: UUID) -> String { String(userID.lowercased.prefix(8)) }
}

extension HTTPField.Name {
    /// nginx's per-response switch for proxy buffering.
    static let xAccelBuffering = Self("X-Accel-Buffering")!
}
