import Foundation

/// A verified Stripe webhook event, reduced to what Reelbase acts on.
struct StripeEvent: Sendable {
    var id: String
    var type: String
    var action: Action

    enum Action: Sendable {
        case paymentSucceeded(intentID: String)
        case paymentFailed(intentID: String)
        case chargeRefunded(Charge)
        /// A type Reelbase does not act on; its id is still recorded.
        case ignored
    }

    /// The fields of a Charge a refund needs. `amountRefunded` is cumulative over all refunds of the charge.
    struct Charge: Decodable, Sendable {
        var id: String
        var paymentIntent: String?
        var amount: Int
        var amountRefunded: Int

        enum CodingKeys: String, CodingKey {
            case id, amount
            case paymentIntent = "payment_intent"
            case amountRefunded = "amount_refunded"
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
                self.action = .paymentSucceeded(intentID: try decoder.decode(Object<IntentReference>.self, from: payload).data.object.id)
            case "payment_intent.payment_failed":
                self.action = .paymentFailed(intentID: try decoder.decode(Object<IntentReference>.self, from: payload).data.object.id)
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
    }
}
