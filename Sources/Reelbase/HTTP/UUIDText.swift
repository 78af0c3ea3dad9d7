import Foundation
import NIOCore

/// Ids as the API spells them: read in any case, written in lowercase.
///
/// Both directions are written by hand because Foundation's were a visible cost under the check-batch load, where
/// every request reads and writes 100 ids: `UUID(uuidString:)` goes through `sscanf` and `strtoull` on Linux (7 % of
/// the server's CPU, perf under peer-bench), `uuidString` through `snprintf` and, lowercased, a second string.
/// `BatchStatusResponseTests` and `UUIDTextTests` hold them to Foundation's results on every id.
extension UUID {
    /// The API's spelling of an id: lowercase (Foundation's `uuidString` is uppercase).
    public var lowercased: String {
        String(unsafeUninitializedCapacity: Self.textLength) { text in
            self.writeLowercased(into: UnsafeMutableRawBufferPointer(text))
            return Self.textLength
        }
    }

    /// An id in the API's form: 36 ASCII characters, `-` at offsets 8, 13, 18 and 23 and a hex digit of either case
    /// everywhere else. Foundation's `UUID(uuidString:)` reads these alike, and on Linux also strings that are not
    /// ids (`sscanf` takes `…cca4-7` and `…cca4 7`): those this refuses.
    public init?(text: some StringProtocol) {
        let parsed = text.utf8.withContiguousStorageIfAvailable { Self.parse($0) }
        guard let uuid = parsed ?? Self.parse(Array(text.utf8)) else { return nil }
        self.init(uuid: uuid)
    }

    static let textLength = 36

    /// Writes the 36 bytes of ``lowercased`` at the start of `text`.
    func writeLowercased(into text: UnsafeMutableRawBufferPointer) {
        precondition(text.count >= Self.textLength)
        withUnsafeBytes(of: self.uuid) { bytes in
            var offset = 0
            for (index, byte) in bytes.enumerated() {
                if Self.hyphenBefore(byteIndex: index) {
                    text[offset] = UInt8(ascii: "-")
                    offset += 1
                }
                text[offset] = Self.hexDigit(byte >> 4)
                text[offset + 1] = Self.hexDigit(byte & 0x0F)
                offset += 2
            }
        }
    }

    private static func parse(_ text: some Collection<UInt8>) -> uuid_t? {
        guard text.count == Self.textLength else { return nil }
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let complete = withUnsafeMutableBytes(of: &uuid) { bytes in
            var position = text.startIndex
            for index in 0..<16 {
                if Self.hyphenBefore(byteIndex: index) {
                    guard text[position] == UInt8(ascii: "-") else { return false }
                    position = text.index(after: position)
                }
                let second = text.index(after: position)
                guard let high = Self.hexValue(text[position]), let low = Self.hexValue(text[second]) else { return false }
                bytes[index] = high << 4 | low
                position = text.index(after: second)
            }
            return true
        }
        return complete ? uuid : nil
    }

    private static func hyphenBefore(byteIndex: Int) -> Bool {
        byteIndex == 4 || byteIndex == 6 || byteIndex == 8 || byteIndex == 10
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    private static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension ByteBuffer {
    /// Appends `id` as ``Foundation/UUID/lowercased`` spells it, without making the string.
    mutating func writeLowercased(_ id: UUID) {
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: UUID.textLength) { space in
            id.writeLowercased(into: space)
            return UUID.textLength
        }
    }
}
