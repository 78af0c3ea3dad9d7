import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// Takes money through Stripe's PaymentIntents API: one confirmed PaymentIntent per purchase.
///
/// The payment's gateway key (derived from the purchase's `Idempotency-Key`) is sent as Stripe's, so a retry, ours,
/// the client's or the reconciler's, finds the intent the first attempt created instead of charging again.
struct StripeGateway: PaymentGateway {
    var name: String { AppConfiguration.PaymentGatewayKind.stripe.rawValue }

    let client: HTTPClient
    let secretKey: String
    /// `https://api.stripe.com`, or a local fake in tests; no trailing slash.
    let apiBase: String
    let logger: Logger
    /// Attempts per charge; only network failures and 5xx answers are tried again.
    var maxAttempts = 3
    var firstRetryDelay: Duration = .milliseconds(250)
    /// The whole charge, retries included, ends well inside the idempotency key's 30-second lease: past the
    /// lease a client's retry could take the key over while this request still waits for Stripe.
    var deadline: TimeAmount = .seconds(15)

    /// The HTTP client the gateway needs: short connect timeout, no redirects (the secret key must only ever go
    /// to `apiBase`).
    static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(15))
        configuration.redirectConfiguration = .disallow
        // Otherwise the pool keeps re-dialling a refused connection until the request's deadline; the gateway's
        // own bounded retry handles that, and fails fast when Stripe is plainly unreachable.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Stripe's PaymentIntents take PaymentMethod ids. Legacy card tokens (`tok_…`) would need another parameter,
    /// and the seed's client sends `pm_…`, so only those are accepted.
    func validate(paymentToken: String) -> FieldError? {
        let body = paymentToken.dropFirst(3)
        guard paymentToken.hasPrefix("pm_"), !body.isEmpty,
            body.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else {
            return FieldError(field: "payment_token", message: "Must be a Stripe PaymentMethod id (pm_…).")
        }
        return nil
    }

    func charge(_ request: ChargeRequest) async throws -> ChargeOutcome {
        let form = Self.formEncoded([
            ("amount", String(request.package.priceCents)),
            ("currency", request.package.currency.lowercased()),
            ("payment_method", request.paymentToken),
            ("confirm", "true"),
            // Without this, confirming needs a `return_url` as soon as the account enables any redirecting method;
            // 3-D Secure still works through `requires_action` and the client secret.
            ("automatic_payment_methods[enabled]", "true"),
            ("automatic_payment_methods[allow_redirects]", "never"),
            // Webhooks find their payment by it, also before this server learned the intent's id.
            ("metadata[payment_id]", request.paymentID.lowercased),
            ("metadata[user_id]", request.userID.lowercased),
            ("metadata[package_id]", request.package.id),
        ])
        let (status, body) = try await self.send("/v1/payment_intents", form: form, idempotencyKey: request.idempotencyKey)
        return try self.outcome(status: status, body: body)
    }

    /// Reads the PaymentIntent when its id is known; otherwise sends the identical create again, which Stripe
    /// answers with the first attempt's result (or makes the charge, if the first never reached it).
    func lookUp(_ payment: RecordedPayment) async throws -> ChargeOutcome {
        guard let intentID = payment.gatewayPaymentID else {
            guard let charge = payment.charge else { throw self.unexpected("a payment without intent or charge to resend", status: 0) }
            return try await self.charge(charge)
        }
        // Stripe's ids are `pi_` and alphanumerics; anything else must not become part of a URL path.
        guard intentID.hasPrefix("pi_"), intentID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw self.unexpected("a payment intent id that is no Stripe id", status: 0)
        }
        let (status, body) = try await self.send("/v1/payment_intents/\(intentID)", form: nil, idempotencyKey: nil)
        return try self.outcome(status: status, body: body)
    }

    /// What Stripe's answer means for the purchase.
    private func outcome(status: Int, body: ByteBuffer) throws -> ChargeOutcome {
        let decoder = JSONDecoder()
        let body = Data(body.readableBytesView)
        switch status {
        case 200..<300:
            guard let intent = try? decoder.decode(PaymentIntent.self, from: body) else {
                throw self.unexpected("undecodable payment intent", status: status)
            }
            switch intent.status {
            case "succeeded":
                return .succeeded(paymentID: intent.id)
            case "requires_payment_method":
                return .declined(paymentID: intent.id, message: intent.lastPaymentError?.message ?? Self.declinedMessage)
            case "requires_action", "processing":
                guard let clientSecret = intent.clientSecret else { throw self.unexpected("pending intent without client_secret", status: status) }
                return .pending(paymentID: intent.id, clientSecret: clientSecret)
            case "canceled":
                return .declined(paymentID: intent.id, message: "The payment was canceled.")
            default:
                throw self.unexpected("payment intent status \(intent.status)", status: status)
            }
        case 500...:
            self.logger.warning("Stripe failed after retries", metadata: ["status": .stringConvertible(status)])
            throw PaymentGatewayError.unavailable
        default:
            let error = (try? decoder.decode(ErrorEnvelope.self, from: body))?.error
            if status == 402, error?.type == "card_error" {
                return .declined(paymentID: error?.paymentIntent?.id, message: error?.message ?? Self.declinedMessage)
            }
            if error?.type == "invalid_request_error", error?.param == "payment_method" {
                throw PaymentGatewayError.invalidPaymentToken
            }
            // Stripe's message is not shown: for a bad key it quotes part of the key.
            throw self.unexpected("\(error?.type ?? "unknown") \(error?.code ?? "")", status: status)
        }
    }

    func unexpected(_ what: String, status: Int) -> PaymentGatewayError {
        self.logger.error("Stripe refused a charge", metadata: ["status": .stringConvertible(status), "error": .string(what)])
        return .refused
    }

    /// The API version every request names (and the webhook endpoint must be set to): the objects this server reads
    /// are shaped as in this version (an invoice's subscription under `parent.subscription_details`, a
    /// subscription's periods on its items).
    static let apiVersion = "2025-12-15.clover"

    /// Sends a request to Stripe (a POST of `form`, a GET without one, or a DELETE), trying again after network
    /// failures and 5xx answers (unless Stripe says not to) with the same idempotency key, until `maxAttempts` or the
    /// deadline.
    func send(_ path: String, form: String?, idempotencyKey: String?, delete: Bool = false) async throws -> (status: Int, body: ByteBuffer) {
        let deadline = NIODeadline.now() + self.deadline
        var request = HTTPClientRequest(url: self.apiBase + path)
        request.method = delete ? .DELETE : form == nil ? .GET : .POST
        request.headers.add(name: "Authorization", value: "Bearer \(self.secretKey)")
        request.headers.add(name: "Stripe-Version", value: Self.apiVersion)
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: form))
        }
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }

        var attempt = 1
        var delay = self.firstRetryDelay
        while true {
            let failure: String
            do {
                let response = try await self.client.execute(request, deadline: deadline, logger: self.logger)
                let body = try await response.body.collect(upTo: 1 << 20)
                let status = Int(response.status.code)
                let retryable = status >= 500 && response.headers.first(name: "Stripe-Should-Retry") != "false"
                if !retryable || attempt == self.maxAttempts { return (status, body) }
                failure = "HTTP \(status)"
            } catch {
                if attempt == self.maxAttempts || error is CancellationError {
                    self.logger.warning("Stripe unreachable", metadata: ["error": .string(String(reflecting: error))])
                    throw PaymentGatewayError.unavailable
                }
                failure = String(reflecting: error)
            }
            guard NIODeadline.now() + TimeAmount(delay) < deadline else {
                self.logger.warning("Stripe charge ran out of time", metadata: ["error": .string(failure)])
                throw PaymentGatewayError.unavailable
            }
            self.logger.notice("retrying Stripe", metadata: ["attempt": .stringConvertible(attempt), "error": .string(failure)])
            try await Task.sleep(for: delay)
            attempt += 1
            delay *= 2
        }
    }

    /// `application/x-www-form-urlencoded`, escaping everything but RFC 3986's unreserved characters.
    static func formEncoded(_ fields: [(String, String)]) -> String {
        var unreserved = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        unreserved.insert(charactersIn: "-._~")
        func escape(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "" }
        return fields.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static let declinedMessage = "Your card was declined."

    private struct PaymentIntent: Decodable {
        var id: String
        var status: String
        var clientSecret: String?
        var lastPaymentError: StripeError?

        enum CodingKeys: String, CodingKey {
            case id, status
            case clientSecret = "client_secret"
            case lastPaymentError = "last_payment_error"
        }
    }

    struct ErrorEnvelope: Decodable {
        var error: StripeError
    }

    struct StripeError: Decodable {
        struct IntentReference: Decodable { var id: String }
        var type: String?
        var code: String?
        var message: String?
        var param: String?
        var paymentIntent: IntentReference?

        enum CodingKeys: String, CodingKey {
            case type, code, message, param
            case paymentIntent = "payment_intent"
        }
    }
}

/// Shuts the gateway's HTTP client down once the server has drained, as the database pool is.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await self.client.shutdown()
    }
}
