import Foundation
import Hummingbird
import Testing

@testable import Reelbase

/// The strict decoder on its own, for what an HTTP test cannot send as a Swift string (bytes that are not UTF-8).
@Suite("HTTP conventions: strict JSON decoding")
struct StrictJSONTests {
    struct Body: Decodable {
        var rate: Double
        var counts: [Int]
    }

    static func decode(_ bytes: [UInt8]) throws -> Body {
        try Request.decodeStrictJSON(Body.self, from: Data(bytes), decoder: JSONDecoder())
    }

    static func problem(_ bytes: [UInt8]) -> Problem? {
        do {
            _ = try decode(bytes)
            return nil
        } catch {
            return error as? Problem
        }
    }

    @Test func bytesThatAreNotUTF8AreInvalidJSON() {
        let prefix = Array(#"{"rate":1,"counts":[],"n":""#.utf8)
        let suffix = Array(#""}"#.utf8)
        // A lone continuation byte, an overlong "/", an encoded surrogate, a code point past U+10FFFF, a cut sequence.
        for bad: [UInt8] in [[0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            #expect(Self.problem(prefix + bad + suffix)?.code == "invalid_json", "\(bad)")
        }
        #expect(Self.problem(prefix + Array("é€😀".utf8) + suffix) == nil)
    }

    @Test func aByteOrderMarkIsIgnoredAsRFC8259Allows() throws {
        #expect(try Self.decode([0xEF, 0xBB, 0xBF] + Array(#"{"rate":0.5,"counts":[1]}"#.utf8)).counts == [1])
    }

    /// A fraction is fine where the field is a `Double`; the one refused is named, not the first unusual number.
    @Test func theRefusedNumberIsFoundAmongOthers() throws {
        let problem = Self.problem(Array(#"{"x":1e400,"rate":2.5,"counts":[1,2e2,3.5,4.5],"y":0.1}"#.utf8))
        #expect(problem?.errors == [FieldError(field: "counts[2]", message: "Must be an integer (got 3.5).")])
        #expect(try Self.decode(Array(#"{"rate":2.5,"counts":[1,2e2,1e1]}"#.utf8)).counts == [1, 200, 10])
    }

    @Test func nestingIsCapped() {
        let deep = { (depth: Int) in Array((#"{"rate":1,"counts":[],"n":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}").utf8) }
        #expect(Self.problem(deep(StrictJSON.maxDepth - 1)) == nil)
        #expect(Self.problem(deep(StrictJSON.maxDepth))?.code == "invalid_json")
    }
}
