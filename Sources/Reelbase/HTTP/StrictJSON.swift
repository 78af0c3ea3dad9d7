import Foundation
import Hummingbird

/// A request body checked against RFC 8259 alone, before Foundation's decoder reads it.
///
/// Foundation's `JSONDecoder` on Linux accepts trailing commas (`{"a":1,}`, `[1,]`), and when a number does not fit
/// its field (`12.5` or `1e400` for an integer) it reports the whole document as invalid JSON, naming no field. This
/// scan refuses what RFC 8259 refuses and keeps what naming those fields takes: where the numbers are that Foundation
/// may fail to convert, and which strings hold U+0000, which PostgreSQL cannot store.
struct StrictJSON {
    /// Not JSON: answered `400 invalid_json`.
    struct SyntaxError: Error {
        var offset: Int
        var reason: String
    }

    /// Deeper nesting is refused, as Foundation's own scanner does.
    static let maxDepth = 512

    let bytes: Data
    /// Numbers with a fraction, an exponent or more than 18 digits, in document order: the only ones Foundation can
    /// fail to convert to a field's type.
    private(set) var unusualNumbers: [Range<Int>] = []
    /// Fields whose text (or key) holds U+0000, the first ``Problem/maxFieldErrors`` of them.
    private(set) var fieldsWithNUL: [String] = []
    private(set) var fieldsWithNULCount = 0

    /// Scans `bytes` (indices from 0, as `Data(buffer:)` makes them).
    init(_ bytes: Data) throws(SyntaxError) {
        self.bytes = bytes
        var scan = Scan(bytes: Array(bytes), target: nil)
        try scan.run()
        self.unusualNumbers = scan.unusualNumbers
        self.fieldsWithNUL = scan.fieldsWithNUL
        self.fieldsWithNULCount = scan.fieldsWithNULCount
    }

    /// The number that made `failsUnnamed` (a decode of the body that throws Foundation's field-less error) fail,
    /// found by restoring the unusual numbers in document order: with those after a point replaced by `0`, the decode
    /// fails exactly when a refused number is among those restored, so a binary search finds the first one in
    /// log₂(n) decodes. `nil` when the decode fails even with every unusual number replaced: then it is not theirs.
    func refusedNumber(_ failsUnnamed: (Data) -> Bool) -> FieldError? {
        let numbers = self.unusualNumbers
        guard !numbers.isEmpty, !failsUnnamed(self.replacing(numbers[...])) else { return nil }
        // Invariant: restoring the first `low` numbers decodes, restoring the first `high` fails.
        var low = 0
        var high = numbers.count
        while high - low > 1 {
            let middle = (low + high) / 2
            if failsUnnamed(self.replacing(numbers[middle...])) { high = middle } else { low = middle }
        }
        let range = numbers[high - 1]
        var scan = Scan(bytes: Array(self.bytes), target: range.lowerBound)
        try? scan.run()
        let token = String(decoding: self.bytes[range], as: UTF8.self)
        let value = Double(token) ?? .infinity
        let reason = value.isFinite && value.rounded() != value ? "Must be an integer" : "Is out of range"
        return FieldError(field: Request.fieldName(scan.targetPath ?? []), message: "\(reason) (got \(token.truncated(to: 40))).")
    }

    /// The body with each of `numbers` replaced by `0` padded with spaces, so every other offset stays put.
    private func replacing(_ numbers: ArraySlice<Range<Int>>) -> Data {
        var copy = self.bytes
        for range in numbers {
            copy[range.lowerBound] = UInt8(ascii: "0")
            for index in range.dropFirst() { copy[index] = UInt8(ascii: " ") }
        }
        return copy
    }
}

/// One coding-path element of a scanned document, for ``Request/fieldName(_:)``.
private struct PathKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// The RFC 8259 grammar. Containers are closed by a loop, not by returning, and nesting is capped at
/// ``StrictJSON/maxDepth``, so a 1 MiB body of `[` cannot exhaust the stack.
private struct Scan {
    enum Frame {
        /// The range of the current member's key, string quotes included.
        case object(key: Range<Int>)
        case array(index: Int)
    }

    let bytes: [UInt8]
    /// An offset where a value starts whose path is wanted; the scan stops there.
    let target: Int?
    var targetPath: [any CodingKey]?
    var index = 0
    var frames: [Frame] = []
    var unusualNumbers: [Range<Int>] = []
    var fieldsWithNUL: [String] = []
    var fieldsWithNULCount = 0

    init(bytes: [UInt8], target: Int?) {
        self.bytes = bytes
        self.target = target
    }

    private var current: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    private func fail(_ reason: String) -> StrictJSON.SyntaxError {
        StrictJSON.SyntaxError(offset: self.index, reason: reason)
    }

    mutating func run() throws(StrictJSON.SyntaxError) {
        // RFC 8259 §8.1 lets a parser ignore a leading byte order mark.
        if self.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { self.index = 3 }
        try self.value()
        while self.targetPath == nil {
            if try self.endOfContainers() { break }
        }
        if self.targetPath != nil { return }
        self.skipWhitespace()
        guard self.current == nil else { throw self.fail("unexpected data after the JSON value") }
    }

    /// Reads one value; an object or array only opens (its members are read by the loop in ``run()``).
    private mutating func value() throws(StrictJSON.SyntaxError) {
        self.skipWhitespace()
        if self.index == self.target {
            self.targetPath = self.path()
            return
        }
        guard let byte = self.current else { throw self.fail("the document ends where a value is expected") }
        switch byte {
        case UInt8(ascii: "{"):
            try self.open()
            self.index += 1
            self.skipWhitespace()
            if self.current == UInt8(ascii: "}") {
                // An empty object: read as a finished value, closed by endOfContainers.
                self.frames.append(.object(key: self.index..<self.index))
                return
            }
            try self.member()
        case UInt8(ascii: "["):
            try self.open()
            self.index += 1
            self.frames.append(.array(index: 0))
            self.skipWhitespace()
            if self.current != UInt8(ascii: "]") { try self.value() }
        case UInt8(ascii: "\""):
            if try self.string() { self.noteNUL() }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try self.number()
        case UInt8(ascii: "t"): try self.literal("true")
        case UInt8(ascii: "f"): try self.literal("false")
        case UInt8(ascii: "n"): try self.literal("null")
        default: throw self.fail("a value is expected")
        }
    }

    private mutating func open() throws(StrictJSON.SyntaxError) {
        guard self.frames.count < StrictJSON.maxDepth else { throw self.fail("nested more than \(StrictJSON.maxDepth) levels deep") }
    }

    /// Reads `"key":` of an object member and the start of its value.
    private mutating func member() throws(StrictJSON.SyntaxError) {
        guard self.current == UInt8(ascii: "\"") else { throw self.fail("an object key (a string) is expected") }
        let start = self.index
        let hasNUL = try self.string()
        self.frames.append(.object(key: start..<self.index))
        if hasNUL { self.noteNUL() }
        self.skipWhitespace()
        guard self.current == UInt8(ascii: ":") else { throw self.fail("':' is expected after an object key") }
        self.index += 1
        try self.value()
    }

    /// After a value: closes every container that ends here, then moves to the next member or element. `true` when
    /// the outermost value has ended.
    private mutating func endOfContainers() throws(StrictJSON.SyntaxError) -> Bool {
        while let frame = self.frames.last {
            self.skipWhitespace()
            guard let byte = self.current else { throw self.fail("the document ends inside an object or array") }
            switch (frame, byte) {
            case (.object, UInt8(ascii: "}")), (.array, UInt8(ascii: "]")):
                self.index += 1
                self.frames.removeLast()
            case (.object, UInt8(ascii: ",")):
                self.index += 1
                self.frames.removeLast()
                self.skipWhitespace()
                // A trailing comma lands here on `}`, which is not a key.
                try self.member()
                return false
            case (.array(let index), UInt8(ascii: ",")):
                self.index += 1
                self.frames[self.frames.count - 1] = .array(index: index + 1)
                // A trailing comma lands here on `]`, which is not a value.
                try self.value()
                return false
            default:
                throw self.fail(frame.isObject ? "',' or '}' is expected" : "',' or ']' is expected")
            }
        }
        return true
    }

    private mutating func skipWhitespace() {
        while let byte = self.current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { self.index += 1 }
    }

    private mutating func literal(_ word: StaticString) throws(StrictJSON.SyntaxError) {
        let count = word.utf8CodeUnitCount
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        guard self.index + count <= self.bytes.count, self.bytes[self.index..<self.index + count].elementsEqual(expected) else {
            throw self.fail("a value is expected")
        }
        self.index += count
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func number() throws(StrictJSON.SyntaxError) {
        let start = self.index
        if self.current == UInt8(ascii: "-") { self.index += 1 }
        let integerStart = self.index
        if self.current == UInt8(ascii: "0") {
            self.index += 1
        } else if self.digits() == 0 {
            throw self.fail("a digit is expected")
        }
        var unusual = self.index - integerStart > 18
        if self.current == UInt8(ascii: ".") {
            self.index += 1
            guard self.digits() > 0 else { throw self.fail("a digit is expected after '.'") }
            unusual = true
        }
        if self.current == UInt8(ascii: "e") || self.current == UInt8(ascii: "E") {
            self.index += 1
            if self.current == UInt8(ascii: "+") || self.current == UInt8(ascii: "-") { self.index += 1 }
            guard self.digits() > 0 else { throw self.fail("a digit is expected in the exponent") }
            unusual = true
        }
        if unusual { self.unusualNumbers.append(start..<self.index) }
    }

    private mutating func digits() -> Int {
        let start = self.index
        while let byte = self.current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { self.index += 1 }
        return self.index - start
    }

    /// Reads a string, checking its escapes and its UTF-8; `true` when it holds U+0000.
    private mutating func string() throws(StrictJSON.SyntaxError) -> Bool {
        self.index += 1
        var hasNUL = false
        while true {
            guard let byte = self.current else { throw self.fail("a string is not closed") }
            switch byte {
            case UInt8(ascii: "\""):
                self.index += 1
                return hasNUL
            case UInt8(ascii: "\\"):
                self.index += 1
                switch self.current ?? 0 {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    self.index += 1
                case UInt8(ascii: "u"):
                    let unit = try self.unicodeEscape()
                    if unit == 0 { hasNUL = true }
                    if (0xDC00...0xDFFF).contains(unit) { throw self.fail("a low surrogate without a high one") }
                    if (0xD800...0xDBFF).contains(unit) {
                        guard self.current == UInt8(ascii: "\\"), self.index + 1 < self.bytes.count,
                            self.bytes[self.index + 1] == UInt8(ascii: "u")
                        else { throw self.fail("a high surrogate without a low one") }
                        self.index += 1
                        guard (0xDC00...0xDFFF).contains(try self.unicodeEscape()) else {
                            throw self.fail("a high surrogate without a low one")
                        }
                    }
                default:
                    throw self.fail("an invalid escape")
                }
            case 0..<0x20:
                throw self.fail("a control character in a string must be escaped")
            case 0..<0x80:
                self.index += 1
            default:
                try self.utf8Sequence(lead: byte)
            }
        }
    }

    /// `uXXXX` after a backslash; the UTF-16 code unit.
    private mutating func unicodeEscape() throws(StrictJSON.SyntaxError) -> UInt16 {
        self.index += 1
        guard self.index + 4 <= self.bytes.count,
            let unit = UInt16(String(decoding: self.bytes[self.index..<self.index + 4], as: UTF8.self), radix: 16),
            self.bytes[self.index..<self.index + 4].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
        else { throw self.fail("\\u must be followed by four hex digits") }
        self.index += 4
        return unit
    }

    /// One well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
    private mutating func utf8Sequence(lead: UInt8) throws(StrictJSON.SyntaxError) {
        let second: ClosedRange<UInt8>
        let length: Int
        switch lead {
        case 0xC2...0xDF: (second, length) = (0x80...0xBF, 2)
        case 0xE0: (second, length) = (0xA0...0xBF, 3)
        case 0xE1...0xEC, 0xEE...0xEF: (second, length) = (0x80...0xBF, 3)
        case 0xED: (second, length) = (0x80...0x9F, 3)
        case 0xF0: (second, length) = (0x90...0xBF, 4)
        case 0xF1...0xF3: (second, length) = (0x80...0xBF, 4)
        case 0xF4: (second, length) = (0x80...0x8F, 4)
        default: throw self.fail("invalid UTF-8")
        }
        guard self.index + length <= self.bytes.count, second.contains(self.bytes[self.index + 1]),
            self.bytes[self.index + 2..<self.index + length].allSatisfy({ (0x80...0xBF).contains($0) })
        else { throw self.fail("invalid UTF-8") }
        self.index += length
    }

    private mutating func noteNUL() {
        self.fieldsWithNULCount += 1
        if self.fieldsWithNUL.count < Problem.maxFieldErrors { self.fieldsWithNUL.append(Request.fieldName(self.path())) }
    }

    /// Where the scan stands, as a coding path: object keys (decoded) and array indices.
    private func path() -> [any CodingKey] {
        self.frames.map { frame -> any CodingKey in
            switch frame {
            case .array(let index):
                return PathKey(intValue: index)
            case .object(let key):
                let quoted = Data(self.bytes[key])
                // The key was checked above, so it decodes; the raw bytes are only a fallback.
                let name = (try? JSONDecoder().decode(String.self, from: quoted)) ?? String(decoding: quoted.dropFirst().dropLast(), as: UTF8.self)
                return PathKey(stringValue: name)
            }
        }
    }
}

extension Scan.Frame {
    fileprivate var isObject: Bool {
        if case .object = self { return true }
        return false
    }
}
