import Foundation
import HTTPTypes
import NIOCore

/// An IPv4 or IPv6 address as its bytes; IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are their IPv4 address,
/// so that one client is one subject whichever socket family it arrived on.
struct IPAddress: Sendable, Equatable, CustomStringConvertible {
    /// 4 or 16 bytes, network order.
    let bytes: [UInt8]

    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4): self.init(bytes: withUnsafeBytes(of: v4.address.sin_addr) { Array($0) })
        case .v6(let v6): self.init(bytes: withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) })
        case .unixDomainSocket: return nil
        }
    }

    /// A dotted-quad IPv4 or an RFC 4291 IPv6 address, nothing else (no port, no zone, no brackets).
    init?(_ text: some StringProtocol) {
        guard let address = try? SocketAddress(ipAddress: String(text), port: 0) else { return nil }
        self.init(address)
    }

    private init(bytes: [UInt8]) {
        let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]
        self.bytes = bytes.count == 16 && bytes.starts(with: mappedPrefix) ? Array(bytes[12...]) : bytes
    }

    /// The canonical spelling (`::1`, not `0:0::1`), so that one address is one subject.
    var description: String {
        (try? SocketAddress(packedIPAddress: ByteBuffer(bytes: self.bytes), port: 0))?.ipAddress ?? "unknown"
    }
}

/// An address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`).
struct IPNetwork: Sendable, Equatable {
    let address: IPAddress
    let prefixLength: Int

    init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let maximum = address.bytes.count * 8
        if parts.count == 1 {
            self.prefixLength = maximum
        } else {
            guard let length = Int(parts[1]), (0...maximum).contains(length) else { return nil }
            self.prefixLength = length
        }
        self.address = address
    }

    func contains(_ other: IPAddress) -> Bool {
        guard other.bytes.count == self.address.bytes.count else { return false }
        let whole = self.prefixLength / 8
        guard other.bytes.prefix(whole) == self.address.bytes.prefix(whole) else { return false }
        let rest = self.prefixLength % 8
        guard rest > 0 else { return true }
        let mask = UInt8(0xFF) << (8 - rest)
        return other.bytes[whole] & mask == self.address.bytes[whole] & mask
    }
}

/// `TRUSTED_PROXIES`: the peers whose `X-Forwarded-For` is believed, and the client address the limits count.
struct TrustedProxies: Sendable, CustomStringConvertible {
    let networks: [IPNetwork]

    static let none = TrustedProxies(networks: [])

    init(networks: [IPNetwork]) { self.networks = networks }

    /// Comma-separated addresses and CIDR blocks; empty entries are ignored.
    init(parsing text: String) throws {
        self.networks = try text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { entry in
            guard let network = IPNetwork(entry) else {
                throw SettingSyntaxError(description: "has a malformed entry '\(entry)': expected an IP address or a CIDR block such as 10.0.0.0/8")
            }
            return network
        }
    }

    func contains(_ address: IPAddress) -> Bool {
        self.networks.contains { $0.contains(address) }
    }

    /// The address a request's limits count against: the peer's, or, when the peer is a trusted proxy, the right-most
    /// `X-Forwarded-For` entry that is not a trusted proxy (the left-most entry when all are). Entries left of that one
    /// are whatever the client wrote and are never looked at.
    ///
    /// Without a peer address (HummingbirdTesting's in-memory `.router` mode has no socket) every request is the one
    /// client `unknown`, which is never a trusted proxy.
    func clientAddress(peer: IPAddress?, forwardedFor: [String]) -> String {
        guard let peer else { return "unknown" }
        guard self.contains(peer) else { return peer.description }
        var client = peer
        for entry in forwardedFor.flatMap({ $0.split(separator: ",") }).reversed() {
            let entry = entry.trimmingCharacters(in: .whitespaces)
            guard let address = IPAddress(Self.withoutPort(entry)) else {
                // A trusted proxy wrote something that is no address (RFC 7239's `unknown`, say): count it as written,
                // bounded, rather than under the proxy's own address, which every client behind it shares.
                return String(entry.prefix(64))
            }
            client = address
            if !self.contains(address) { break }
        }
        return client.description
    }

    /// `192.0.2.1:4711` → `192.0.2.1`, `[2001:db8::1]:443` → `2001:db8::1`; a bare address is returned as it is.
    private static func withoutPort(_ entry: String) -> Substring {
        if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
            return entry[entry.index(after: entry.startIndex)..<close]
        }
        if entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":") {
            return entry[..<colon]
        }
        return entry[...]
    }

    var description: String {
        self.networks.isEmpty ? "none" : self.networks.map { "\($0.address)/\($0.prefixLength)" }.joined(separator: ",")
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}
