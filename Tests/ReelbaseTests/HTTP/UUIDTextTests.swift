import Foundation
import Testing

@testable import Reelbase

/// `UUID(text:)` replaces Foundation's `UUID(uuidString:)` on the hot paths. On every id in the API's form (36
/// characters, hyphens at offsets 8, 13, 18 and 23, hex digits of either case elsewhere) both must read the same
/// id; every other string it must refuse. Foundation on Linux parses each byte with `sscanf`'s `%2hhx`, which skips
/// a leading space and takes a sign or a `0x` inside a byte, so it reads strings such as
/// `1b4e28ba-2fa1-11d2-883f-0016d3cca4-7` as ids: those are the only strings where the two differ, and the API
/// answers `422` for them (API.md: a string that is not a UUID).
@Suite("Ids read by hand")
struct UUIDTextTests {
    /// Every way one character of a valid id can differ, at every offset, and lengths around 36.
    @Test func agreesWithFoundationOnEveryOneCharacterChange() {
        let valid = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
        let replacements: [Character] = ["0", "9", "a", "f", "A", "F", "g", "G", "-", " ", "+", "x", "{", "}", "\0", "é", "٣", "０"]
        var checked = 0
        for offset in 0..<valid.count {
            for replacement in replacements {
                var characters = Array(valid)
                characters[offset] = replacement
                Self.expectReadAsSpecified(String(characters))
                var longer = Array(valid)
                longer.insert(replacement, at: offset)
                Self.expectReadAsSpecified(String(longer))
                var shorter = Array(valid)
                shorter.remove(at: offset)
                Self.expectReadAsSpecified(String(shorter))
                checked += 3
            }
        }
        #expect(checked == 36 * replacements.count * 3)
    }

    @Test func agreesWithFoundationOnRandomIdsInAnyCase() {
        for _ in 0..<2_000 {
            let id = UUID()
            let mixed = String(id.uuidString.map { Bool.random() ? Character($0.lowercased()) : $0 })
            #expect(UUID(text: mixed) == id)
            #expect(UUID(text: id.lowercased) == id)
            Self.expectReadAsSpecified(mixed)
            Self.expectReadAsSpecified("{\(mixed)}")
            Self.expectReadAsSpecified(mixed.replacingOccurrences(of: "-", with: ""))
        }
    }

    @Test func refusesWhatOnlySscanfReads() {
        for text in [" 1b4e28ba-2fa1-11d2-883f-0016d3cca42", "+b4e28ba-2fa1-11d2-883f-0016d3cca427", "1b4e28ba-+fa1-11d2-883f-0016d3cca427",
                     "0x4e28ba-2fa1-11d2-883f-0016d3cca427", "1b4e28ba-2fa1-11d2-883f-0016d3cca4-7", "1b4e28ba-2fa1-11d2-883f-0016d3cca4 7"] {
            #expect(UUID(uuidString: text) != nil, "Foundation reads \(text.debugDescription)")
            #expect(UUID(text: text) == nil, "\(text.debugDescription)")
        }
    }

    @Test func agreesWithFoundationOnOddInput() {
        for text in ["", "-", String(repeating: "-", count: 36), String(repeating: "0", count: 36), "00000000-0000-0000-0000-000000000000",
                     "ffffffff-ffff-ffff-ffff-ffffffffffff", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "1b4e28ba-2fa1-11d2-883f-0016d3cca427\n",
                     "1b4e28ba_2fa1_11d2_883f_0016d3cca427"] {
            Self.expectReadAsSpecified(text)
        }
        // A substring of a longer string is read through the same path as a string.
        let padded = "[1b4e28ba-2fa1-11d2-883f-0016d3cca427]"
        let inner = padded.dropFirst().dropLast()
        #expect(UUID(text: inner) == UUID(uuidString: String(inner)))
        #expect(UUID(text: inner) != nil)
    }

    /// The API's form, written independently of both parsers.
    private static func isAnID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        return bytes.enumerated().allSatisfy { offset, byte in
            [8, 13, 18, 23].contains(offset) ? byte == UInt8(ascii: "-") : Character(UnicodeScalar(byte)).isHexDigit && byte < 0x80
        }
    }

    private static func expectReadAsSpecified(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if Self.isAnID(text) {
            #expect(UUID(text: text) != nil, "\(text.debugDescription)", sourceLocation: sourceLocation)
            #expect(UUID(text: text) == UUID(uuidString: text), "\(text.debugDescription)", sourceLocation: sourceLocation)
        } else {
            #expect(UUID(text: text) == nil, "\(text.debugDescription)", sourceLocation: sourceLocation)
        }
    }
}
