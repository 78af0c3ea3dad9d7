import Foundation
import Testing

@testable import Reelbase

/// `BearerAuthMiddleware.bearerToken(_:)` reads the header without Foundation on the common path: it must read every
/// header as the plain Foundation version did.
@Suite("Bearer header")
struct BearerTokenTests {
    /// The Foundation version it replaced.
    private static func reference(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    @Test(arguments: [
        "Bearer abc.def.ghi", "bearer abc", "BEARER abc", "BeArEr abc", "Bearer  abc", "Bearer abc ", "Bearer \tabc\t",
        "Bearer", "Bearer ", "Bearer   ", " Bearer abc", "Bearer\tabc", "Basic abc", "Bearerx abc", "Bearе abc",
        "bearer\u{00A0}abc", "Bearer \u{00A0}abc\u{2003}", "Bearer a b", "Bearer é", "Bearer abc\n", "", " ", "BEARER\u{0}abc",
        "Bearer \u{1F600}", "bEaReR ey.J", "Bearer \u{0301}abc",
    ])
    func readsEveryHeaderAsFoundationDid(header: String) {
        #expect(BearerAuthMiddleware.bearerToken(header) == Self.reference(header))
    }

    @Test func readsTheTokenOfAWellFormedHeader() {
        #expect(BearerAuthMiddleware.bearerToken("Bearer abc.def.ghi") == "abc.def.ghi")
        #expect(BearerAuthMiddleware.bearerToken("bearer  abc ") == "abc")
        #expect(BearerAuthMiddleware.bearerToken("Basic abc") == nil)
    }
}
