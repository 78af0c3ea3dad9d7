import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// How long a client may take over each part of an HTTP/1.1 exchange (API.md, Operations: connections).
///
/// Hummingbird's own `idleTimeout` is one inactivity timer: a body trickled a byte at a time keeps it alive, and it
/// closes without answering. These deadlines are whole-phase deadlines instead:
/// - **head**: a new connection, or a keep-alive one that has started sending its next request, must deliver a
///   complete request head within `head`, else it is closed;
/// - **body**: a body must be complete within `body` of its head, else `408` (problem+json) and the connection closes;
/// - **idle**: a keep-alive connection that sends nothing for `idle` after a response is closed.
///
/// No timer runs while a response is being written, however long it takes. That is the exemption of event streams:
/// a stream is one long response, so it needs nothing from here; a stream that ends returns its connection to
/// the idle timer like any other response.
struct ConnectionTimeouts: Sendable {
    var head: Duration
    var body: Duration
    var idle: Duration

    init(_ configuration: AppConfiguration) {
        self.head = .seconds(configuration.requestHeadTimeout)
        self.body = .seconds(configuration.requestBodyTimeout)
        self.idle = .seconds(configuration.idleTimeout)
    }
}

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1.1 server with ``ConnectionTimeouts``.
    static func http1(timeouts: ConnectionTimeouts) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            DeadlineHTTP1Channel(
                http1: HTTP1Channel(responder: responder, configuration: .init(additionalChannelHandlers: [RequestDeadlineHandler(timeouts)])))
        }
    }
}

/// `HTTP1Channel` with one handler in front of its decoder: only bytes tell a connection that started its next request
/// (head deadline) from an idle one (idle deadline), and only the decoder knows where a head ends.
private struct DeadlineHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let http1: HTTP1Channel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(BytesArrivedHandler())
        }.flatMap {
            self.http1.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await self.http1.handle(value: value, logger: logger)
    }
}

/// Announces each read of raw bytes to ``RequestDeadlineHandler``, behind the HTTP decoder (which passes events on).
private final class BytesArrivedHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    struct Event {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireUserInboundEventTriggered(Event())
        context.fireChannelRead(data)
    }
}

/// Keeps the head, body and idle deadlines of one connection, between the HTTP codec and Hummingbird.
private final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Deadline { case head, body, idle }

    private let timeouts: ConnectionTimeouts
    private var timer: (deadline: Deadline, task: Scheduled<Void>)?
    /// Requests whose head has arrived and whose response has not ended.
    private var requestsInProgress = 0
    private var isReadingBody = false
    /// Bytes arrived since the last head: the next request has begun.
    private var nextRequestStarted = false
    private var isResponseStarted = false
    /// The id the `408` carries: the client's, as ``ProblemMiddleware`` would echo it.
    private var requestID: String?
    /// The body deadline passed: the connection is closing and nothing more passes either way.
    private var timedOut = false

    init(_ timeouts: ConnectionTimeouts) {
        self.timeouts = timeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.arm(.head, context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if self.timer == nil { self.arm(.head, context: context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.disarm()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is BytesArrivedHandler.Event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard !self.isReadingBody else { return }
        self.nextRequestStarted = true
        if self.timer?.deadline == .idle { self.arm(.head, context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.timedOut else { return }
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.requestsInProgress += 1
            self.isReadingBody = true
            self.nextRequestStarted = false
            self.isResponseStarted = false
            self.requestID = ProblemMiddleware.requestID(from: head.headerFields)
            self.arm(.body, context: context)
        case .body:
            break
        case .end:
            self.isReadingBody = false
            // A response may have ended before its body was read: then the connection is idle from here.
            if self.requestsInProgress == 0 { self.arm(.idle, context: context) } else { self.disarm() }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !self.timedOut else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch self.unwrapOutboundIn(data) {
        case .head:
            if self.isReadingBody { self.isResponseStarted = true }
        case .body:
            break
        case .end:
            // Never below zero: a parse error is answered without a head having been read.
            self.requestsInProgress = max(0, self.requestsInProgress - 1)
            if self.requestsInProgress == 0 && !self.isReadingBody {
                self.arm(self.nextRequestStarted ? .head : .idle, context: context)
            }
        }
        context.write(data, promise: promise)
    }

    private func arm(_ deadline: Deadline, context: ChannelHandlerContext) {
        self.disarm()
        let delay: Duration
        switch deadline {
        case .head: delay = self.timeouts.head
        case .body: delay = self.timeouts.body
        case .idle: delay = self.timeouts.idle
        }
        let task = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
            self.timer = nil
            self.expired(deadline, context: context)
        }
        self.timer = (deadline, task)
    }

    private func disarm() {
        self.timer?.task.cancel()
        self.timer = nil
    }

    private func expired(_ deadline: Deadline, context: ChannelHandlerContext) {
        guard deadline == .body else {
            context.close(promise: nil)
            return
        }
        self.timedOut = true
        let timeout = RequestBodyTimeout(timeout: self.timeouts.body)
        // The route still waiting for the body must see it fail, not end: a truncated body is not a body.
        context.fireErrorCaught(timeout)
        guard !self.isResponseStarted else {
            context.close(promise: nil)
            return
        }
        let body = ByteBuffer(data: timeout.problem.body)
        let response = HTTPResponse(
            status: .requestTimeout,
            headerFields: [
                .contentType: "application/problem+json", .contentLength: String(body.readableBytes), .connection: "close",
                .xRequestID: self.requestID ?? UUID().lowercased,
            ])
        context.write(self.wrapOutboundOut(.head(response)), promise: nil)
        context.write(self.wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

/// The error a route reading a body sees when the body deadline passed. The connection answers `408` itself; the
/// route's own answer to this error is dropped, and only keeps the error out of the logs of unexpected ones.
struct RequestBodyTimeout: ProblemConvertible {
    var timeout: Duration

    var problem: Problem {
        Problem(
            .requestTimeout, code: "request_timeout",
            detail: "The request body did not arrive within \(self.timeout.components.seconds) seconds.", headers: [.connection: "close"])
    }
}
