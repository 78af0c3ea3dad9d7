import Foundation
import Testing

@testable import Reelbase

/// Refresh tokens already handed out are looked up by the hash of their spelling: it must never change.
@Suite("Refresh tokens: the spelling is pinned")
struct RefreshTokenSpellingTests {
    /// Strings computed independently (Python's urlsafe_b64encode, padding stripped), covering both `-` and `_`.
    @Test(arguments: [
        (Array(0..<32), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"),
        ([UInt8](repeating: 0xFF, count: 32), "__________________________________________8"),
        (Array([[UInt8]](repeating: [0xFB, 0xEF, 0xBE], count: 10).joined()) + [0xFB, 0xEF], "------------------------------------------8"),
    ] as [([UInt8], String)])
    func bytesSpellAsBefore(_ bytes: [UInt8], _ token: String) {
        #expect(TokenIssuer.refreshToken(bytes: bytes) == token)
    }

    @Test func newTokensAre43URLSafeCharacters() {
        for _ in 0..<50 {
            let token = TokenIssuer.newRefreshToken()
            #expect(token.count == 43)
            #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }, "\(token)")
        }
    }
}
