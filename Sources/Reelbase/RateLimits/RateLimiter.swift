import Foundation
import Hummingbird

/// A limit was reached: the event was refused and not counted.
struct RateLimitExceeded: Error, Sendable, Equatable {
    var name: RateLimitName
    /// Seconds until the window frees one event.
    var retryAfter: Int
}

extension RateLimitExceeded: ProblemConvertible {
    var problem: Problem {
        Problem(
            .tooManyRequests, code: "rate_limited",
            detail: "Too many attempts; retry in \(self.retryAfter) seconds.",
            headers: [.retryAfter: String(self.retryAfter)])
    }
}

/// Events counted by one ``RateLimiter/reserve(_:)`` call, to give back when the attempt turns out not to count
/// (a login whose password was right).
struct RateLimitReservation: Sendable {
    fileprivate var events: [CountedEvent]
}

/// The abuse limits as features use them: count an event before the work it limits, give it back if it should not
/// count. Limits that are off count nothing.
///
/// ```swift
/// try await limits.reserve(.reportUser, subject: userID.lowercased)
/// ```
struct RateLimiter: Sendable {
    let store: RateLimitStore
    let limits: RateLimits
    let proxies: TrustedProxies
    var clock: @Sendable () -> Date = Date.init

    /// Counts one event against `name` for `subject`, or throws ``RateLimitExceeded`` (counting nothing) when full.
    @discardableResult
    func reserve(_ name: RateLimitName, subject: String) async throws -> RateLimitReservation {
        try await self.reserve([(name, subject)])
    }

    /// Counts one event against each limit, all or none: when one is full the others are given back.
    @discardableResult
    func reserve(_ counts: [(RateLimitName, String)]) async throws -> RateLimitReservation {
        let now = self.clock()
        var reservation = RateLimitReservation(events: [])
        for (name, subject) in counts {
            guard let limit = self.limits[name] else { continue }
            let subject = Self.stored(subject, of: name)
            if let event = try await self.store.count(name, subject: subject, limit: limit, now: now) {
                reservation.events.append(event)
            } else {
                try await self.giveBack(reservation)
                throw RateLimitExceeded(name: name, retryAfter: try await self.store.retryAfter(name, subject: subject, limit: limit, now: now))
            }
        }
        return reservation
    }

    func giveBack(_ reservation: RateLimitReservation) async throws {
        try await self.store.giveBack(reservation.events)
    }

    /// The address the per-address limits count this request against (see ``TrustedProxies/clientAddress(peer:forwardedFor:)``).
    func clientAddress(_ request: Request, context: AppRequestContext) -> String {
        self.proxies.clientAddress(peer: context.peerAddress.flatMap { IPAddress($0) }, forwardedFor: request.headers[values: .xForwardedFor])
    }

    /// Emails are kept as their SHA-256, so the table holds no address that someone typed at the login form.
    private static func stored(_ subject: String, of name: RateLimitName) -> String {
        name == .loginEmail ? sha256Hex(subject) : subject
    }
}
