import Foundation
import NIOCore

/// Stripe Billing: Customers and Subscriptions on the plans' Prices, through the gateway's one HTTP path (retries,
/// deadline, pinned `Stripe-Version`).
extension StripeGateway: BillingGateway {
    func createCustomer(userID: UUID, email: String) async throws -> String {
        let form = Self.formEncoded([("email", email), ("metadata[user_id]", userID.lowercased)])
        let (status, body) = try await self.send("/v1/customers", form: form, idempotencyKey: "reelbase_customer_\(userID.lowercased)")
        guard (200..<300).contains(status), let customer = try? JSONDecoder().decode(Identified.self, from: Data(body.readableBytesView)) else {
            throw try self.failure(status: status, body: body)
        }
        return customer.id
    }

    func createSubscription(_ request: BilledSubscriptionRequest) async throws -> BilledSubscriptionOutcome {
        guard let price = request.plan.stripePriceID else { throw self.unexpected("plan \(request.plan.id) has no stripe_price_id", status: 0) }
        let form = Self.formEncoded([
            ("customer", request.customerID),
            ("items[0][price]", price),
            ("default_payment_method", request.paymentMethod),
            // The first invoice is paid now or the create fails (402); an invoice needing 3-D Secure leaves the
            // subscription `incomplete`, answered 202 with the invoice's client secret.
            ("payment_behavior", "error_if_incomplete"),
            ("expand[0]", "latest_invoice.confirmation_secret"),
            ("metadata[subscription_id]", request.subscriptionID.lowercased),
            ("metadata[user_id]", request.userID.lowercased),
        ])
        let (status, body) = try await self.send("/v1/subscriptions", form: form, idempotencyKey: request.idempotencyKey)
        let data = Data(body.readableBytesView)
        guard (200..<300).contains(status) else {
            let error = (try? JSONDecoder().decode(ErrorEnvelope.self, from: data))?.error
            if status == 402, error?.type == "card_error" { return .declined(message: error?.message ?? Self.declinedMessage) }
            throw try self.failure(status: status, body: body)
        }
        guard let subscription = try? JSONDecoder().decode(StripeSubscription.self, from: data), let billed = subscription.billed else {
            throw self.unexpected("undecodable subscription", status: status)
        }
        switch subscription.status {
        case "active", "trialing":
            guard let invoice = subscription.latestInvoice else { throw self.unexpected("active subscription without its invoice", status: status) }
            return .active(billed, invoiceID: invoice.id)
        case "incomplete":
            guard let secret = subscription.latestInvoice?.confirmationSecret?.clientSecret,
                let intentID = secret.components(separatedBy: "_secret_").first
            else { throw self.unexpected("incomplete subscription without a client secret", status: status) }
            return .pending(billed, paymentIntentID: intentID, clientSecret: secret)
        default:
            throw self.unexpected("new subscription status \(subscription.status)", status: status)
        }
    }

    func update(_ subscription: BilledSubscriptionReference, _ change: BilledSubscriptionChange) async throws {
        let fields: [(String, String)]
        switch change {
        case .cancelAtPeriodEnd(let cancel):
            fields = [("cancel_at_period_end", cancel ? "true" : "false")]
        case .price(let price):
            guard let item = subscription.itemID else { throw self.unexpected("subscription without its item id", status: 0) }
            fields = [("items[0][id]", item), ("items[0][price]", price), ("proration_behavior", "none")]
        case .defaultPaymentMethod(let method):
            fields = [("default_payment_method", method)]
        }
        let (status, body) = try await self.send(
            "/v1/subscriptions/\(try Self.pathSafe(subscription.subscriptionID))", form: Self.formEncoded(fields), idempotencyKey: nil)
        guard (200..<300).contains(status) else { throw try self.failure(status: status, body: body) }
    }

    func cancelNow(_ subscription: BilledSubscriptionReference) async throws {
        let (status, body) = try await self.send(
            "/v1/subscriptions/\(try Self.pathSafe(subscription.subscriptionID))", form: nil, idempotencyKey: nil, delete: true)
        guard (200..<300).contains(status) else { throw try self.failure(status: status, body: body) }
    }

    /// Stripe's ids are letters, digits and `_`; anything else must not become part of a URL path.
    private static func pathSafe(_ id: String) throws -> String {
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw PaymentGatewayError.refused
        }
        return id
    }

    /// A refusal, logged without Stripe's message (for a bad key it quotes part of the key).
    private func failure(status: Int, body: ByteBuffer) throws -> PaymentGatewayError {
        if status >= 500 { return .unavailable }
        let error = (try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(body.readableBytesView)))?.error
        if error?.type == "invalid_request_error", error?.param == "default_payment_method" { return .invalidPaymentToken }
        return self.unexpected("\(error?.type ?? "unknown") \(error?.code ?? "")", status: status)
    }

    private struct Identified: Decodable { var id: String }

    /// The fields of a Subscription this server reads, in ``apiVersion``'s shape (periods on the items).
    struct StripeSubscription: Decodable {
        struct Items: Decodable { var data: [Item] }
        struct Item: Decodable {
            var id: String
            var currentPeriodStart: Int
            var currentPeriodEnd: Int
            enum CodingKeys: String, CodingKey {
                case id
                case currentPeriodStart = "current_period_start"
                case currentPeriodEnd = "current_period_end"
            }
        }
        struct Invoice: Decodable {
            struct ConfirmationSecret: Decodable {
                var clientSecret: String
                enum CodingKeys: String, CodingKey { case clientSecret = "client_secret" }
            }
            var id: String
            var confirmationSecret: ConfirmationSecret?
            enum CodingKeys: String, CodingKey {
                case id
                case confirmationSecret = "confirmation_secret"
            }
        }
        var id: String
        var status: String
        var items: Items
        var latestInvoice: Invoice?
        enum CodingKeys: String, CodingKey {
            case id, status, items
            case latestInvoice = "latest_invoice"
        }

        var billed: BilledSubscription? {
            self.items.data.first.map {
                BilledSubscription(
                    id: self.id, itemID: $0.id, periodStart: Date(timeIntervalSince1970: Double($0.currentPeriodStart)),
                    periodEnd: Date(timeIntervalSince1970: Double($0.currentPeriodEnd)))
            }
        }
    }
}
