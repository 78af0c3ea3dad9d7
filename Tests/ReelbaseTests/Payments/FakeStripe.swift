import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

@testable import Reelbase

/// A stand-in for Stripe's `POST /v1/payment_intents` and `GET /v1/payment_intents/{id}`, served on 127.0.0.1 at a
/// free port for one test.
///
/// Magic PaymentMethods as in Stripe's test mode: `pm_card_visa` succeeds, `pm_card_chargeDeclined` is declined
/// (402 card_error), `pm_card_threeDSecure` needs customer action; others are unknown (400). Like Stripe, it
/// answers a repeated `Idempotency-Key` with the first answer (even after the intent moved on) and does not charge
/// again; the GET answers the intent as it is now.
struct FakeStripe: Sendable {
    static let secretKey = "sk_test_fake_4eC39HqLyjWDarjtT1zdp7dc"
    static let webhookSecret = "whsec_test_fake_secret"

    let state: State
    let port: Int

    /// Settings that point the app's Stripe gateway at this fake.
    var settings: [String: String] {
        [
            "payment.gateway": "stripe",
            "stripe.secret.key": Self.secretKey,
            "stripe.webhook.secret": Self.webhookSecret,
            "stripe.api.base": "http://127.0.0.1:\(self.port)",
        ]
    }

    /// What the fake saw and holds.
    actor State {
        struct Intent: Sendable {
            var id: String
            var amount: Int
            var form: [String: String]
            var idempotencyKey: String?
            var status: String
        }

        /// PaymentIntents created: each is one real attempt to charge a card.
        private(set) var intents: [Intent] = []
        /// Requests received, replays and failures included.
        private(set) var requests = 0
        /// `GET /v1/payment_intents/{id}` requests received.
        private(set) var lookups = 0
        /// Answers kept per idempotency key.
        private var answers: [String: (Int, String)] = [:]
        /// This many next requests answer 500 before anything is charged.
        var failuresToServe = 0
        /// This many next creates are carried out (charged, answer kept for the key) but answered 500, as when the
        /// connection drops after Stripe charged: the caller never learns the outcome.
        var answersToLose = 0

        /// Customers created (`POST /v1/customers`), once per idempotency key.
        private(set) var customers: [(form: [String: String], idempotencyKey: String?)] = []
        /// Subscriptions created, once per idempotency key.
        private(set) var subscriptions: [(id: String, form: [String: String], idempotencyKey: String?)] = []
        /// `POST /v1/subscriptions/{id}` and `DELETE /v1/subscriptions/{id}` received: (id, form, or `nil` for a DELETE).
        private(set) var subscriptionChanges: [(id: String, form: [String: String]?)] = []
        /// Every `Stripe-Version` header received.
        private(set) var versions: Set<String> = []
        /// Whether changes to subscriptions are refused (400), as Stripe refuses a change it cannot make.
        var refusesChanges = false

        func refuseChanges(_ refuse: Bool) { self.refusesChanges = refuse }
        func sawVersion(_ version: String?) { self.versions.insert(version ?? "none") }

        func createCustomer(form: [String: String], idempotencyKey: String?) -> (Int, String) {
            if let idempotencyKey, let earlier = self.answers[idempotencyKey] { return earlier }
            self.customers.append((form, idempotencyKey))
            let answer = (200, #"{"id":"cus_fake_\#(self.customers.count)","object":"customer"}"#)
            if let idempotencyKey { self.answers[idempotencyKey] = answer }
            return answer
        }

        /// `pm_card_visa`: active with its first invoice paid; `pm_card_threeDSecure`: incomplete, the invoice awaiting
        /// the customer; `pm_card_chargeDeclined`: 402. A calendar month from now, on item `si_fake_N`.
        func createSubscription(form: [String: String], idempotencyKey: String?) -> (Int, String) {
            if let idempotencyKey, let earlier = self.answers[idempotencyKey] { return earlier }
            let number = self.subscriptions.count + 1
            let id = "sub_fake_\(number)"
            let start = Int(Date().timeIntervalSince1970)
            let end = Int(SubscriptionPeriods(fixedLength: nil).start(of: 1, anchor: Date(timeIntervalSince1970: Double(start))).timeIntervalSince1970)
            let answer: (Int, String)
            switch form["default_payment_method"] {
            case "pm_card_visa", "pm_card_threeDSecure":
                self.subscriptions.append((id, form, idempotencyKey))
                let paid = form["default_payment_method"] == "pm_card_visa"
                let invoice =
                    paid
                    ? #"{"id":"in_fake_\#(number)","status":"paid"}"#
                    : #"{"id":"in_fake_\#(number)","status":"open","confirmation_secret":{"client_secret":"pi_fake_sub_\#(number)_secret_abc","type":"payment_intent"}}"#
                answer = (
                    200,
                    #"{"id":"\#(id)","object":"subscription","status":"\#(paid ? "active" : "incomplete")","items":{"data":[{"id":"si_fake_\#(number)","current_period_start":\#(start),"current_period_end":\#(end)}]},"latest_invoice":\#(invoice)}"#
                )
            case "pm_card_chargeDeclined":
                answer = (402, #"{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}}"#)
            default:
                answer = (
                    400,
                    #"{"error":{"type":"invalid_request_error","code":"resource_missing","param":"default_payment_method","message":"No such PaymentMethod"}}"#
                )
            }
            if let idempotencyKey { self.answers[idempotencyKey] = answer }
            return answer
        }

        func changeSubscription(_ id: String, form: [String: String]?) -> (Int, String) {
            guard !self.refusesChanges else {
                return (400, #"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such subscription"}}"#)
            }
            self.subscriptionChanges.append((id, form))
            return (200, #"{"id":"\#(id)","object":"subscription","status":"\#(form == nil ? "canceled" : "active")"}"#)
        }

        func failNext(_ count: Int) { self.failuresToServe = count }
        func loseNextAnswers(_ count: Int) { self.answersToLose = count }

        /// The customer completed 3-D Secure: the intent succeeded.
        func complete(_ intentID: String) {
            if let index = self.intents.firstIndex(where: { $0.id == intentID }) { self.intents[index].status = "succeeded" }
        }

        func lookUp(_ intentID: String) -> (Int, String) {
            self.lookups += 1
            guard let intent = self.intents.first(where: { $0.id == intentID }) else {
                return (404, #"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_intent"}}"#)
            }
            return (200, Self.intent(intent.id, amount: intent.amount, status: intent.status))
        }

        func answer(form: [String: String], idempotencyKey: String?) -> (Int, String) {
            self.requests += 1
            if self.failuresToServe > 0 {
                self.failuresToServe -= 1
                return Self.serverError
            }
            let answer = self.create(form: form, idempotencyKey: idempotencyKey)
            if self.answersToLose > 0 {
                self.answersToLose -= 1
                return Self.serverError
            }
            return answer
        }

        private static let serverError = (500, #"{"error":{"type":"api_error","message":"An unknown error occurred."}}"#)

        private func create(form: [String: String], idempotencyKey: String?) -> (Int, String) {
            if let idempotencyKey, let earlier = self.answers[idempotencyKey] { return earlier }
            let id = "pi_fake_\(self.intents.count + 1)"
            let amount = Int(form["amount"] ?? "") ?? 0
            let status =
                switch form["payment_method"] {
                case "pm_card_visa": "succeeded"
                case "pm_card_threeDSecure": "requires_action"
                default: "requires_payment_method"
                }
            self.intents.append(Intent(id: id, amount: amount, form: form, idempotencyKey: idempotencyKey, status: status))
            let answer: (Int, String)
            switch form["payment_method"] {
            case "pm_card_visa", "pm_card_threeDSecure":
                answer = (200, Self.intent(id, amount: amount, status: status))
            case "pm_card_chargeDeclined":
                answer = (
                    402,
                    #"{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined.","payment_intent":{"id":"\#(id)","status":"requires_payment_method"}}}"#
                )
            default:
                answer = (
                    400,
                    #"{"error":{"type":"invalid_request_error","code":"resource_missing","param":"payment_method","message":"No such PaymentMethod"}}"#
                )
            }
            if let idempotencyKey { self.answers[idempotencyKey] = answer }
            return answer
        }

        private static func intent(_ id: String, amount: Int, status: String) -> String {
            #"{"id":"\#(id)","object":"payment_intent","amount":\#(amount),"currency":"usd","status":"\#(status)","client_secret":"\#(id)_secret_abc"}"#
        }
    }

    /// Runs `body` with a fake listening, and stops it afterwards.
    static func run<R: Sendable>(_ body: @escaping @Sendable (FakeStripe) async throws -> R) async throws -> R {
        let state = State()
        let router = Router()
        router.post("v1/payment_intents") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.secretKey)" else {
                return Self.json(401, #"{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****"}}"#)
            }
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            let form = Dictionary(
                (URLComponents(string: "?" + body)?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
            let key = HTTPField.Name("Idempotency-Key").flatMap { request.headers[$0] }
            let (status, json) = await state.answer(form: form, idempotencyKey: key)
            return Self.json(status, json)
        }
        @Sendable func form(_ request: Request) async throws -> [String: String] {
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            return Dictionary((URLComponents(string: "?" + body)?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        }
        func billing(
            _ path: RouterPath, _ method: HTTPRequest.Method, _ handle: @escaping @Sendable (Request, BasicRequestContext) async throws -> (Int, String)
        ) {
            router.on(path, method: method) { request, context -> Response in
                guard request.headers[.authorization] == "Bearer \(Self.secretKey)" else {
                    return Self.json(401, #"{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****"}}"#)
                }
                await state.sawVersion(HTTPField.Name("Stripe-Version").flatMap { request.headers[$0] })
                let (status, json) = try await handle(request, context)
                return Self.json(status, json)
            }
        }
        let idempotencyKey = HTTPField.Name("Idempotency-Key")!
        billing("v1/customers", .post) { request, _ in await state.createCustomer(form: try await form(request), idempotencyKey: request.headers[idempotencyKey]) }
        billing("v1/subscriptions", .post) { request, _ in
            await state.createSubscription(form: try await form(request), idempotencyKey: request.headers[idempotencyKey])
        }
        billing("v1/subscriptions/:id", .post) { request, context in
            await state.changeSubscription(context.parameters.get("id") ?? "", form: try await form(request))
        }
        billing("v1/subscriptions/:id", .delete) { _, context in await state.changeSubscription(context.parameters.get("id") ?? "", form: nil) }
        router.get("v1/payment_intents/:id") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.secretKey)" else {
                return Self.json(401, #"{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****"}}"#)
            }
            let (status, json) = await state.lookUp(context.parameters.get("id") ?? "")
            return Self.json(status, json)
        }
        var logger = Logger(label: "fake-stripe")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "fake-stripe"), logger: logger)
        return try await LiveServer.run(app) { port in try await body(FakeStripe(state: state, port: port)) }
    }

    /// Runs `body` with a fake listening and the app, with a handle on its database, pointed at it.
    static func runWithApp(
        _ database: TestDatabase, _ body: @escaping @Sendable (FakeStripe, TestClient, Reelbase.Database) async throws -> Void
    ) async throws {
        try await Self.run { fake in
            try await TestApp.runWithDatabase(database, settings: fake.settings) { client, db in try await body(fake, client, db) }
        }
    }

    private static func json(_ status: Int, _ body: String) -> Response {
        Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }

    // MARK: Webhooks

    /// A `Stripe-Signature` header for `payload`, as Stripe computes it.
    static func signature(for payload: String, secret: String = webhookSecret, at time: Date = Date()) -> String {
        let timestamp = Int(time.timeIntervalSince1970)
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(payload)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(timestamp),v1=\(mac.map { String(format: "%02x", $0) }.joined())"
    }

    /// An event as Stripe sends it: `{"id", "object": "event", "type", "data": {"object": …}}`.
    static func event(
        id: String = "evt_\(UUID().uuidString.prefix(12))", type: String, object: [String: Any], created: Int = Int(Date().timeIntervalSince1970)
    ) -> String {
        let event: [String: Any] = [
            "id": id, "object": "event", "type": type, "livemode": false, "created": created,
            "data": ["object": object],
        ]
        return String(decoding: (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }

    /// A `payment_intent.*` event; `paymentID`, when given, is the intent's `metadata[payment_id]`.
    static func intentEvent(_ type: String, intentID: String, paymentID: String? = nil, id: String = "evt_\(UUID().uuidString.prefix(12))") -> String {
        event(
            id: id, type: type,
            object: [
                "id": intentID, "object": "payment_intent", "status": type == "payment_intent.succeeded" ? "succeeded" : "requires_payment_method",
                "metadata": paymentID.map { ["payment_id": $0] } ?? [String: String](),
            ])
    }

    /// A `charge.refunded` event; `paymentID`, when given, is the charge's `metadata[payment_id]`.
    static func refundEvent(
        intentID: String, amount: Int, amountRefunded: Int, paymentID: String? = nil, id: String = "evt_\(UUID().uuidString.prefix(12))"
    ) -> String {
        event(
            id: id, type: "charge.refunded",
            object: [
                "id": "ch_\(intentID)", "object": "charge", "payment_intent": intentID, "amount": amount,
                "amount_refunded": amountRefunded, "refunded": amountRefunded >= amount,
                "metadata": paymentID.map { ["payment_id": $0] } ?? [String: String](),
            ])
    }
}

extension TestClient {
    /// Delivers a webhook payload signed with the fake's secret.
    func webhook(_ payload: String) async throws -> TestResponse {
        try await self.webhook(payload, stripeSignature: FakeStripe.signature(for: payload))
    }

    /// Delivers a webhook payload with this `Stripe-Signature` header, or none.
    func webhook(_ payload: String, stripeSignature: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let stripeSignature, let name = HTTPField.Name("Stripe-Signature") { headers[name] = stripeSignature }
        return try await self.request(.post, "/v1/payments/webhooks/stripe", rawBody: payload, headers: headers)
    }
}
