import Foundation

/// A verified Stripe webhook event, reduced to what Reelbase acts on.
struct StripeEvent: Sendable {
    var id: String
    var type: String
    /// When Stripe made the event (Unix seconds): orders the subscription events, which Stripe may deliver late.
    var created: Int
    var action: Action

    enum Action: Sendable {
        case paymentSucceeded(PaymentReference)
        case paymentFailed(PaymentReference)
        case chargeRefunded(Charge)
        case invoicePaid(Invoice)
        /// `invoice_payment.paid`: which PaymentIntent paid which invoice.
        case invoicePaymentPaid(InvoicePayment)
        case invoicePaymentFailed(Invoice)
        /// `customer.subscription.updated` and `.deleted`.
        case subscriptionChanged(Subscription, deleted: Bool)
        /// A type Reelbase does not act on; its id is still recorded.
        case ignored
    }

    /// Which payment an event concerns: the `payments` row named by the intent's `metadata[payment_id]` (found also
    /// before this server learned the intent's id), else the one holding the intent's id.
    struct PaymentReference: Sendable {
        var intentID: String
        var paymentID: UUID?
    }

    /// The fields of a Charge a refund needs. `amountRefunded` is cumulative over all refunds of the charge; the
    /// charge's own `amount` is not read: credits are computed from the amount this server recorded.
    struct Charge: Decodable, Sendable {
        var id: String
        var paymentIntent: String?
        var amountRefunded: Int
        var metadata: Metadata?

        enum CodingKeys: String, CodingKey {
            case id, metadata
            case paymentIntent = "payment_intent"
            case amountRefunded = "amount_refunded"
        }

        /// The payment it refunds, when it names its PaymentIntent.
        var payment: PaymentReference? {
            self.paymentIntent.map { PaymentReference(intentID: $0, paymentID: self.metadata?.paymentID) }
        }
    }

    /// The metadata keys Reelbase sets and reads: `payment_id` on PaymentIntents, `subscription_id` on
    /// Subscriptions (and so on their invoices' `subscription_details`).
    struct Metadata: Decodable, Sendable {
        var paymentID: UUID?
        var subscriptionID: UUID?

        enum CodingKeys: String, CodingKey {
            case paymentID = "payment_id"
            case subscriptionID = "subscription_id"
        }

        /// A value that is no UUID names nothing of this server's; it does not make the event unreadable.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.paymentID = (try? container.decodeIfPresent(String.self, forKey: .paymentID)).flatMap(UUID.init(uuidString:))
            self.subscriptionID = (try? container.decodeIfPresent(String.self, forKey: .subscriptionID)).flatMap(UUID.init(uuidString:))
        }
    }

    /// The fields of an Invoice Reelbase reads, where ``StripeGateway/apiVersion`` puts them: its subscription under
    /// `parent.subscription_details`, the period it pays for on its subscription line item (never the invoice's own
    /// `period_start`/`period_end`, which describe the period before).
    struct Invoice: Decodable, Sendable {
        struct Parent: Decodable, Sendable {
            struct SubscriptionDetails: Decodable, Sendable {
                var subscription: String?
                var metadata: Metadata?
            }
            var subscriptionDetails: SubscriptionDetails?
            enum CodingKeys: String, CodingKey { case subscriptionDetails = "subscription_details" }
        }
        struct Lines: Decodable, Sendable { var data: [Line] }
        struct Line: Decodable, Sendable {
            struct Period: Decodable, Sendable {
                var start: Int
                var end: Int
            }
            struct LineParent: Decodable, Sendable {
                struct ItemDetails: Decodable, Sendable {
                    var subscriptionItem: String?
                    enum CodingKeys: String, CodingKey { case subscriptionItem = "subscription_item" }
                }
                var type: String?
                var subscriptionItemDetails: ItemDetails?
                enum CodingKeys: String, CodingKey {
                    case type
                    case subscriptionItemDetails = "subscription_item_details"
                }
            }
            struct Pricing: Decodable, Sendable {
                struct PriceDetails: Decodable, Sendable { var price: String? }
                var priceDetails: PriceDetails?
                enum CodingKeys: String, CodingKey { case priceDetails = "price_details" }
            }
            var period: Period
            var parent: LineParent?
            var pricing: Pricing?
        }

        var id: String
        var billingReason: String?
        var amountPaid: Int?
        var parent: Parent?
        var lines: Lines?

        enum CodingKeys: String, CodingKey {
            case id, parent, lines
            case billingReason = "billing_reason"
            case amountPaid = "amount_paid"
        }

        /// The line of the subscription's item: the period paid for.
        var subscriptionLine: Line? {
            self.lines?.data.first { $0.parent?.type == "subscription_item_details" } ?? self.lines?.data.first
        }

        var subscription: SubscriptionReference {
            SubscriptionReference(
                gatewayID: self.parent?.subscriptionDetails?.subscription, subscriptionID: self.parent?.subscriptionDetails?.metadata?.subscriptionID)
        }
    }

    /// An InvoicePayment: the invoice and the PaymentIntent that paid it.
    struct InvoicePayment: Decodable, Sendable {
        struct Payment: Decodable, Sendable {
            var paymentIntent: String?
            enum CodingKeys: String, CodingKey { case paymentIntent = "payment_intent" }
        }
        var invoice: String
        var payment: Payment
    }

    /// The fields of a Subscription Reelbase reads.
    struct Subscription: Decodable, Sendable {
        var id: String
        var status: String
        var cancelAtPeriodEnd: Bool?
        var metadata: Metadata?

        enum CodingKeys: String, CodingKey {
            case id, status, metadata
            case cancelAtPeriodEnd = "cancel_at_period_end"
        }

        var reference: SubscriptionReference { SubscriptionReference(gatewayID: self.id, subscriptionID: self.metadata?.subscriptionID) }
    }

    /// Which subscription an event concerns: ours named by `metadata[subscription_id]` (known before this server
    /// learned Stripe's id), else the one holding Stripe's id.
    struct SubscriptionReference: Sendable {
        var gatewayID: String?
        var subscriptionID: UUID?
    }

    /// Decodes an event's envelope and, for the types acted on, its object; anything else is `400 invalid_event`.
    init(payload: Data) throws {
        let decoder = JSONDecoder()
        do {
            let envelope = try decoder.decode(Envelope.self, from: payload)
            guard (1...255).contains(envelope.id.count) else { throw Unreadable() }
            self.id = envelope.id
            self.type = envelope.type
            self.created = envelope.created ?? 0
            switch envelope.type {
            case "payment_intent.succeeded":
                self.action = .paymentSucceeded(try decoder.decode(Object<IntentReference>.self, from: payload).data.object.reference)
            case "payment_intent.payment_failed":
                self.action = .paymentFailed(try decoder.decode(Object<IntentReference>.self, from: payload).data.object.reference)
            case "charge.refunded":
                self.action = .chargeRefunded(try decoder.decode(Object<Charge>.self, from: payload).data.object)
            case "invoice.paid":
                self.action = .invoicePaid(try decoder.decode(Object<Invoice>.self, from: payload).data.object)
            case "invoice_payment.paid":
                self.action = .invoicePaymentPaid(try decoder.decode(Object<InvoicePayment>.self, from: payload).data.object)
            case "invoice.payment_failed":
                self.action = .invoicePaymentFailed(try decoder.decode(Object<Invoice>.self, from: payload).data.object)
            case "customer.subscription.updated", "customer.subscription.deleted":
                self.action = .subscriptionChanged(
                    try decoder.decode(Object<Subscription>.self, from: payload).data.object, deleted: envelope.type == "customer.subscription.deleted")
            default:
                self.action = .ignored
            }
        } catch is DecodingError {
            throw Unreadable()
        }
    }

    /// The payload is not an event this server can read.
    struct Unreadable: Error {}

    private struct Envelope: Decodable {
        var id: String
        var type: String
        var created: Int?
    }

    private struct Object<Body: Decodable>: Decodable {
        struct Payload: Decodable { var object: Body }
        var data: Payload
    }

    private struct IntentReference: Decodable {
        var id: String
        var metadata: Metadata?
        var reference: PaymentReference { PaymentReference(intentID: self.id, paymentID: self.metadata?.paymentID) }
    }
}
