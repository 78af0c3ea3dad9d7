/// API.md's rule for the links clients store and others' apps fetch (`video_url`, `thumbnail_url`, `avatar_url`):
/// an absolute `https` URL (`http` too outside production) of at most 2048 characters whose host is a DNS name —
/// no IP literal, no user info, not `localhost` — so a stored link cannot point a viewer's app (or a worker that
/// fetches it) at a loopback or private address by number, nor smuggle credentials or a misleading host.
///
/// Written out rather than read through Foundation's `URL`, which percent-encodes what it should refuse and parses
/// hosts differently from browsers (`https://a.example\@b.example` is `b.example` to a WHATWG parser).
struct URLRule: Sendable {
    /// `http` is accepted besides `https`.
    var allowsHTTP: Bool

    static let maxLength = 2048

    init(environment: AppConfiguration.Environment) {
        self.allowsHTTP = environment != .production
    }

    /// Why `text` is refused, as a field message; `nil` when it is accepted.
    func refusal(of text: String) -> String? {
        let schemes = self.allowsHTTP ? "an http or https URL" : "an https URL"
        guard text.lengthInCodePoints <= Self.maxLength else { return "Must be at most \(Self.maxLength) characters." }
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy(Self.isURICharacter), Self.percentEscapesAreWellFormed(bytes) else {
            return "Must be \(schemes) with only the characters RFC 3986 allows (percent-encode the others)."
        }
        guard let separator = text.range(of: "://") else { return "Must be \(schemes) (absolute, with a host)." }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "https" || (scheme == "http" && self.allowsHTTP) else { return "Must be \(schemes)." }
        let afterScheme = text[separator.upperBound...]
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let rest = afterScheme[authority.endIndex...]
        guard !authority.contains("@") else { return "Must not contain user info (name@ or name:password@)." }
        guard !authority.hasPrefix("[") else { return "Must name a DNS host, not an IP address." }
        // Brackets belong only around IP literals, and `#` starts the one fragment.
        guard !rest.contains("["), !rest.contains("]"), rest.split(separator: "#", omittingEmptySubsequences: false).count <= 2 else {
            return "Must be \(schemes) with only the characters RFC 3986 allows (percent-encode the others)."
        }
        var host = Substring(authority)
        if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            let port = authority[authority.index(after: colon)...]
            guard (1...5).contains(port.count), let number = Int(port), (1...65535).contains(number) else {
                return "Has an invalid port."
            }
        }
        return Self.refusal(ofHost: host.lowercased())
    }

    /// A DNS name of letters, digits and hyphens in labels of 1 to 63, with a top-level label that cannot be read as
    /// a number (WHATWG parsers read `127.1`, `0x7f.1` and `2130706433` as IPv4 addresses).
    private static func refusal(ofHost host: String) -> String? {
        let name = host.hasSuffix(".") ? String(host.dropLast()) : host
        guard !name.isEmpty else { return "Must name a host." }
        if name == "localhost" || name.hasSuffix(".localhost") { return "Must not be localhost." }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard let last = labels.last, let first = last.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return "Must name a DNS host, not an IP address."
        }
        let isLabel: (Substring) -> Bool = { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                        || byte == UInt8(ascii: "-")
                }
        }
        guard name.utf8.count <= 253, labels.count >= 2, labels.allSatisfy(isLabel) else {
            return "Must name a DNS host with a domain, such as cdn.example.com."
        }
        return nil
    }

    /// RFC 3986's unreserved, reserved and `%` characters: printable ASCII but space and `"<>\^`{|}`.
    private static func isURICharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-._~:/?#[]@!$&'()*+,;=%".utf8.contains(byte)
        }
    }

    /// Every `%` starts `%XX` with two hex digits.
    private static func percentEscapesAreWellFormed(_ bytes: [UInt8]) -> Bool {
        let isHex: (UInt8) -> Bool = { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
        }
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "%") {
            guard index + 2 < bytes.count, isHex(bytes[index + 1]), isHex(bytes[index + 2]) else { return false }
        }
        return true
    }
}
