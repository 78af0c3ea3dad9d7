import Crypto
import Foundation
import NIOCore

/// Checks a webhook's `Stripe-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…]`, each `v1` signing
/// `"<t>.<raw body>"` with the endpoint's signing secret.
///
/// Several `v1` values appear while a secret is being rolled, so any one matching is enough. Other schemes (`v0`,
/// sent in test mode) are ignored, as Stripe's own libraries do.
struct StripeSignature: Sendable {
    private let key: SymmetricKey
    /// Stripe's libraries use five minutes: room for clock drift, too short to replay a captured event much later.
    let tolerance: TimeInterval = 300
    /// Only this many `v1` values are tried (API.md): an unauthenticated caller must not buy one HMAC per value.
    static let maxSignatures = 8
    /// A longer header is refused before it is parsed (API.md); Stripe's own stay far below it.
    static let maxHeaderBytes = 4096

    init(secret: String) {
        self.key = SymmetricKey(data: Data(secret.utf8))
    }

    /// Throws ``StripeSignatureError`` unless `header` signs `payload` with this secret at a time near `now`.
    func verify(header: String?, payload: Data, now: Date) throws {
        guard let header, !header.isEmpty else { throw StripeSignatureError.missing }
        guard header.utf8.count <= Self.maxHeaderBytes else { throw StripeSignatureError.tooLong(bytes: Self.maxHeaderBytes) }
        var timestamp: Int?
        var signatures: [[UInt8]] = []
        var signaturesSeen = 0
        for element in header.split(separator: ",") {
            let pair = element.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { throw StripeSignatureError.malformed }
            let name = pair[0].trimmingCharacters(in: .whitespaces)
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            switch name {
            case "t":
                guard timestamp == nil, let seconds = Int(value) else { throw StripeSignatureError.malformed }
                timestamp = seconds
            case "v1":
                // The first values count, malformed ones included; the rest are not looked at.
                signaturesSeen += 1
                guard signaturesSeen <= Self.maxSignatures else { continue }
                // A value that is not 32 bytes of hex cannot match; the others may still.
                if let bytes = try? ByteBuffer(plainHexEncodedBytes: value), bytes.readableBytes == SHA256.byteCount {
                    signatures.append(Array(bytes.readableBytesView))
                }
            default:
                continue
            }
        }
        guard let timestamp, !signatures.isEmpty else { throw StripeSignatureError.malformed }
        guard abs(now.timeIntervalSince1970 - TimeInterval(timestamp)) <= self.tolerance else {
            throw StripeSignatureError.outsideTolerance(seconds: Int(self.tolerance))
        }
        let signed = Data("\(timestamp).".utf8) + payload
        guard signatures.contains(where: { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: signed, using: self.key) }) else {
            throw StripeSignatureError.noMatch
        }
    }
}

/// Why a webhook's signature was not accepted.
enum StripeSignatureError: Error, Sendable {
    /// `STRIPE_WEBHOOK_SECRET` is not set, so nothing can be verified.
    case noSecret
    case missing
    /// The header is longer than `bytes`.
    case tooLong(bytes: Int)
    case malformed
    case outsideTolerance(seconds: Int)
    case noMatch
}
