import Foundation
import HTTPTypes
import Hummingbird

/// `POST /v1/payments/webhooks/stripe`: Stripe's signed events. No bearer token: the signature is the authentication.
///
/// Active whatever the gateway, so that events for payments made before a switch to `mock` still settle.
struct StripeWebhookRoutes {
    /// `nil` when `STRIPE_WEBHOOK_SECRET` is unset: then no event can be verified and every one is refused.
    let signature: StripeSignature?
    let store: StripeWebhookStore

    struct Received: ResponseEncodable {
        var received = true
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("webhooks/stripe", use: self.receive)
    }

    /// Verifies the signature over the raw bytes (re-encoded JSON would not match), then applies the event once.
    @Sendable func receive(_ request: Request, context: AppRequestContext) async throws -> Received {
        let payload = Data(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        guard let signature else {
            context.logger.warning("Stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set")
            throw StripeSignatureError.noSecret
        }
        try signature.verify(header: request.headers[.stripeSignature], payload: payload, now: Date())
        let event = try StripeEvent(payload: payload)
        let isNew = try await self.store.apply(event, payload: payload, logger: context.logger)
        context.logger.info("Stripe event", metadata: ["event_id": .string(event.id), "type": .string(event.type), "new": .stringConvertible(isNew)])
        return Received()
    }
}

extension HTTPField.Name {
    static let stripeSignature = Self("Stripe-Signature")!
}
