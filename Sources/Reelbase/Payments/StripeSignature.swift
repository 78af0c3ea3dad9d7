import Crypto
import Foundation

/// Checks a webhook's `Stripe-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…]`, each `v1` signing
/// `"<t>.<raw body>"` with the endpoint's signing secret.
///
/// Several `v1` values appear while a secret is being rolled, so any one matching is enough. Other schemes (`v0`,
/// sent in test mode) are ignored, as Stripe's own libraries do.
struct StripeSignature: Sendable {
    private let key: SymmetricKey
    /// Stripe's libraries use five minutes: room for clock drift, too short to replay a captured event much later.
    let tolerance: TimeInterval = 300

    init(secret: String) {
        self.key = SymmetricKey(data: Data(secret.utf8))
    }

    /// Throws a `400 invalid_signature` problem unless `header` signs `payload` with this secret at a time near `now`.
    func verify(header: String?, payload: Data, now: Date) throws {
        guard let header, !header.isEmpty else { throw Self.invalid("The Stripe-Signature header is missing.") }
        var timestamp: Int?
        var signatures: [[UInt8]] = []
        for element in header.split(separator: ",") {
            let pair = element.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { throw Self.malformed }
            let name = pair[0].trimmingCharacters(in: .whitespaces)
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            switch name {
            case "t":
                guard timestamp == nil, let seconds = Int(value) else { throw Self.malformed }
                timestamp = seconds
            case "v1":
                // A value that is not 32 bytes of hex cannot match; the others may still.
                if let bytes = Self.bytes(hex: value), bytes.count == SHA256.byteCount { signatures.append(bytes) }
            default:
                continue
            }
        }
        guard let timestamp, !signatures.isEmpty else { throw Self.malformed }
        guard abs(now.timeIntervalSince1970 - TimeInterval(timestamp)) <= self.tolerance else {
            throw Self.invalid("The Stripe-Signature timestamp is more than \(Int(self.tolerance)) seconds from now.")
        }
        let signed = Data("\(timestamp).".utf8) + payload
        guard signatures.contains(where: { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: signed, using: self.key) }) else {
            throw Self.invalid("No signature in the Stripe-Signature header matches this payload.")
        }
    }

    static func invalid(_ detail: String) -> Problem {
        Problem(.badRequest, code: "invalid_signature", detail: detail)
    }

    private static let malformed = invalid("The Stripe-Signature header must be t=<timestamp>,v1=<signature>.")

    /// The bytes of a hex string, or `nil` if it is not one (swift-crypto keeps its own hex decoder internal).
    private static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
