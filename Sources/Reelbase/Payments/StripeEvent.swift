import Foundation

/// A verified Stripe webhook event, reduced to what Reelbase acts on.
struct StripeEvent: Sendable {
    var id: String
    var type: String
    var action: Action

    enum Action: Sendable {
        case paymentSucceeded(PaymentReference)
        case paymentFailed(PaymentReference)
        case chargeRefunded(Charge)
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

    /// The one metadata key Reelbase sets and reads.
    struct Metadata: Decodable, Sendable {
        var paymentID: UUID?

        enum CodingKeys: String, CodingKey {
            case paymentID = "payment_id"
        }

        /// A value that is no UUID names no payment of this server; it does not make the event unreadable.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.paymentID = (try? container.decodeIfPresent(String.self, forKey: .paymentID)).flatMap(UUID.init(uuidString:))
        }
    }

    /// Decodes an event's envelope and, for the types acted on, its object; anything else is `400 invalid_event`.
    init(payload: Data) throws {
        let decoder = JSONDecoder()
        do {
            let envelope = try decoder.decode(Envelope.self, from: payload)
            guard (1...255).contains(envelope.id.count) else { throw Unreadable() }
            self.id = envelope.id
            self.type = envelope.type
            switch envelope.type {
            case "payment_intent.succeeded":
                self.action = .paymentSucceeded(try decoder.decode(Object<IntentReference>.self, from: payload).data.object.reference)
            case "payment_intent.payment_failed":
                self.action = .paymentFailed(try decoder.decode(Object<IntentReference>.self, from: payload).data.object.reference)
            case "charge.refunded":
                self.action = .chargeRefunded(try decoder.decode(Object<Charge>.self, from: payload).data.object)
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
