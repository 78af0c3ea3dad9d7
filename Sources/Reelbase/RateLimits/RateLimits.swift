import Foundation

/// The abuse limits of API.md's Operations, each counting one kind of event per subject.
enum RateLimitName: String, CaseIterable, Sendable {
    /// Failed logins per email (unknown emails count too).
    case loginEmail = "login_email"
    /// Failed logins per client address.
    case loginIP = "login_ip"
    /// Registrations per client address.
    case registerIP = "register_ip"
    /// Failed promo-code redemptions per user (applied by the credit-lots feature).
    case promoUser = "promo_user"
    /// Reports per user (applied by the safety feature).
    case reportUser = "report_user"
}

/// At most `count` events in any sliding window of `window` seconds.
struct RateLimit: Sendable, Equatable {
    var count: Int
    var window: Int

    /// The window in whole one-minute buckets: counting is per minute, so a window that is no whole number of
    /// minutes is rounded up (`90s` counts as two minutes).
    var windowMinutes: Int { (self.window + 59) / 60 }
}

/// Why a `RATE_LIMITS` or `TRUSTED_PROXIES` text cannot be used; the configuration prefixes the variable's name.
struct SettingSyntaxError: Error, CustomStringConvertible {
    var description: String
}

/// Every limit's setting: API.md's defaults, overridden or switched off by `RATE_LIMITS`.
struct RateLimits: Sendable, Equatable, CustomStringConvertible {
    /// A name without an entry is off.
    private(set) var limits: [RateLimitName: RateLimit]

    static let defaults = RateLimits(limits: [
        .loginEmail: RateLimit(count: 10, window: 15 * 60),
        .loginIP: RateLimit(count: 50, window: 15 * 60),
        .registerIP: RateLimit(count: 20, window: 3600),
        .promoUser: RateLimit(count: 10, window: 3600),
        .reportUser: RateLimit(count: 50, window: 86_400),
    ])

    static let off = RateLimits(limits: [:])

    private init(limits: [RateLimitName: RateLimit]) { self.limits = limits }

    subscript(name: RateLimitName) -> RateLimit? { self.limits[name] }

    /// `off`, or comma-separated `name=COUNT/WINDOW` (window units `s m h d`) or `name=off`; names left out keep
    /// their defaults.
    init(parsing text: String) throws {
        if text.trimmingCharacters(in: .whitespaces).lowercased() == "off" {
            self = .off
            return
        }
        self = .defaults
        var seen: Set<RateLimitName> = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard parts.count == 2, let name = RateLimitName(rawValue: parts[0]) else {
                throw Self.malformed(entry)
            }
            guard seen.insert(name).inserted else { throw SettingSyntaxError(description: "names \(name.rawValue) twice") }
            if parts[1] == "off" {
                self.limits[name] = nil
            } else {
                guard let limit = Self.limit(parts[1]) else { throw Self.malformed(entry) }
                self.limits[name] = limit
            }
        }
    }

    private static func malformed(_ entry: String) -> SettingSyntaxError {
        SettingSyntaxError(
            description: "has a malformed entry '\(entry)': expected off or NAME=COUNT/WINDOW (such as login_email=10/15m) with NAME one of "
                + RateLimitName.allCases.map(\.rawValue).joined(separator: ", ")
                + ", COUNT 1 to 1000000 and WINDOW a number with unit s, m, h or d, at most 30d")
    }

    /// `COUNT/WINDOW`, `nil` when malformed or out of range.
    private static func limit(_ text: String) -> RateLimit? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[0]), (1...1_000_000).contains(count),
            let unit = parts[1].last, let amount = Int(parts[1].dropLast()), amount > 0
        else { return nil }
        let unitSeconds = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        // Bounded so that `amount * seconds` cannot overflow and a bucket row never outlives a month.
        guard let seconds = unitSeconds[String(unit)], amount <= 30 * 86_400 / seconds else { return nil }
        return RateLimit(count: count, window: amount * seconds)
    }

    /// The canonical text: `off`, or every name's entry, so that `--help` shows the defaults.
    var description: String {
        if self.limits.isEmpty { return "off" }
        return RateLimitName.allCases.map { name in
            guard let limit = self.limits[name] else { return "\(name.rawValue)=off" }
            let (amount, unit) =
                limit.window % 86_400 == 0 ? (limit.window / 86_400, "d")
                : limit.window % 3600 == 0 ? (limit.window / 3600, "h")
                : limit.window % 60 == 0 ? (limit.window / 60, "m") : (limit.window, "s")
            return "\(name.rawValue)=\(limit.count)/\(amount)\(unit)"
        }.joined(separator: ",")
    }
}
