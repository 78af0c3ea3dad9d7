import Hummingbird

// How the payment domain's errors are answered over HTTP.

extension PaymentGatewayError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .unavailable:
            Problem(
                .badGateway,
                code: "payment_gateway_unavailable",
                detail:
                    "The payment provider could not be reached; nothing was credited. Should it have charged, the purchase is credited within minutes, and a retry with the same Idempotency-Key never charges twice."
            )
        case .refused:
            Problem(
                .badGateway,
                code: "payment_gateway_error",
                detail: "The payment provider could not process this purchase; nothing was credited. The error has been logged."
            )
        case .invalidPaymentToken:
            Problem.validation(field: "payment_token", "Stripe does not accept this PaymentMethod.")
        }
    }
}

extension StripeSignatureError: ProblemConvertible {
    var problem: Problem {
        let detail =
            switch self {
            case .noSecret: "This server has no webhook signing secret, so no event can be verified."
            case .missing: "The Stripe-Signature header is missing."
            case .tooLong(let bytes): "The Stripe-Signature header is longer than \(bytes) bytes."
            case .malformed: "The Stripe-Signature header must be t=<timestamp>,v1=<signature>."
            case .outsideTolerance(let seconds): "The Stripe-Signature timestamp is more than \(seconds) seconds from now."
            case .noMatch: "No signature in the Stripe-Signature header matches this payload."
            }
        return Problem(.badRequest, code: "invalid_signature", detail: detail)
    }
}

extension StripeEvent.Unreadable: ProblemConvertible {
    var problem: Problem {
        Problem(.badRequest, code: "invalid_event", detail: "The payload is not a Stripe event this server can read.")
    }
}
