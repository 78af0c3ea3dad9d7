import Foundation
import Testing

@testable import Reelbase

/// Clients hold cursors between requests: the spelling of one cursor must never change under them.
@Suite("Feed cursors: the spelling is pinned")
struct FeedCursorSpellingTests {
    let codec = FeedCursor.Codec(secret: "test-secret-that-is-long-enough-for-hs256")

    /// Strings computed independently (Python's hmac and urlsafe_b64encode) from the documented layout: the
    /// instant's bits big-endian, the UUID's bytes, then HMAC-SHA256 over `list ‖ 0 ‖ payload`, base64url unpadded.
    @Test(arguments: [
        (1_761_741_000_123_457.0, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "videos",
         "QxkJLSn-kQQPHi08S1ppeIeWpbTD0uHwUdI77frjzhGogqSLW0XoNrpCXLlr94S00D8E_B8TL9w"),
        (1_761_741_000.123457, "ffffffff-ffff-ffff-ffff-ffffffffffff", "users/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/followers",
         "QdpAgjIH5rj_____________________wUGlHg_13s4tJLdOeTvOFdNT2J5NwPvTdeIQnTxQWEE"),
    ])
    func cursorSpellsAsBefore(_ instant: Double, _ uuid: String, _ list: String, _ text: String) throws {
        let cursor = FeedCursor(instant: instant, id: try #require(UUID(uuidString: uuid)))
        #expect(self.codec.encode(cursor, list: list) == text)
        #expect(self.codec.decode(text, list: list) == cursor)
    }

    /// Only the exact spelling is a cursor: padding, the standard alphabet, another list or a changed byte are refused.
    @Test func otherSpellingsAreRefused() {
        let text = "QxkJLSn-kQQPHi08S1ppeIeWpbTD0uHwUdI77frjzhGogqSLW0XoNrpCXLlr94S00D8E_B8TL9w"
        #expect(self.codec.decode(text, list: "videos") != nil)
        for garbled in [
            text + "=", text.replacingOccurrences(of: "-", with: "+"), text.replacingOccurrences(of: "_", with: "/"),
            String(text.dropLast()), text + "A", "A" + text.dropFirst(), "", String(repeating: "A", count: 129),
        ] {
            #expect(self.codec.decode(garbled, list: "videos") == nil, "\(garbled)")
        }
        #expect(self.codec.decode(text, list: "videos/") == nil)
    }
}
