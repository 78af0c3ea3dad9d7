import Foundation

/// Where a subscription's periods begin and end: calendar months in UTC counted from the first period's start
/// (clamped to a month's last day, so Jan 31 → Feb 28 → Mar 31: always from the anchor, never from the previous end),
/// or fixed lengths of `SUBSCRIPTION_PERIOD_SECONDS` for tests and demos.
struct SubscriptionPeriods: Sendable {
    /// `nil`: calendar months.
    let fixedLength: Int?

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        return calendar
    }()

    /// The start of period `index` of a subscription whose first period started at `anchor`.
    func start(of index: Int, anchor: Date) -> Date {
        if let fixedLength { return anchor.addingTimeInterval(Double(fixedLength) * Double(index)) }
        return Self.utc.date(byAdding: .month, value: index, to: anchor) ?? anchor.addingTimeInterval(Double(index) * 30 * 86_400)
    }

    /// The period that contains `date` (0 for any instant before the second period).
    func index(containing date: Date, anchor: Date) -> Int {
        guard date > anchor else { return 0 }
        var index: Int
        if let fixedLength {
            index = Int(date.timeIntervalSince(anchor) / Double(fixedLength))
        } else {
            index = Self.utc.dateComponents([.month], from: anchor, to: date).month ?? 0
        }
        // Clamped month ends and rounding can leave the estimate one off either way.
        while index > 0 && self.start(of: index, anchor: anchor) > date { index -= 1 }
        while self.start(of: index + 1, anchor: anchor) <= date { index += 1 }
        return index
    }

    /// "2026-12-01 – 2027-01-01", as ledger descriptions show periods (UTC days).
    static func describe(_ start: Date, _ end: Date) -> String {
        "\(start.formatted(.utcDay)) – \(end.formatted(.utcDay))"
    }
}
