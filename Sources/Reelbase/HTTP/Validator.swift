import Foundation

/// Collects every invalid field of a request before answering one `422`.
public struct Validator {
    /// The first ``Problem/maxFieldErrors`` invalid fields.
    public private(set) var errors: [FieldError] = []
    /// Every invalid field, also those not listed.
    private var count = 0

    public init() {}

    public mutating func check(_ condition: Bool, _ field: String, _ message: @autoclosure () -> String) {
        guard !condition else { return }
        self.count += 1
        // A 1 MiB body of bad ids must not build a million messages.
        if self.errors.count < Problem.maxFieldErrors { self.errors.append(FieldError(field: field, message: message())) }
    }

    /// Checks a text's length as the database counts it (API.md: Unicode code points, PostgreSQL's `char_length`).
    public mutating func checkLength(_ text: String, _ range: ClosedRange<Int>, _ field: String, _ message: @autoclosure () -> String) {
        self.check(range.contains(text.lengthInCodePoints), field, message())
    }

    /// Checks a link clients store and show (`video_url`, `thumbnail_url`, `avatar_url`) against `rule`.
    mutating func checkURL(_ text: String, _ field: String, rule: URLRule) {
        let refusal = rule.refusal(of: text)
        self.check(refusal == nil, field, refusal ?? "")
    }

    /// `text` read as an ISO 8601 instant, with or without fractional seconds (request bodies carry instants as
    /// strings, so that a bad one is a field error of its own); a field error unless it is one, or with `now` given
    /// unless it is later than `now`.
    mutating func instant(_ text: String, _ field: String, laterThan now: Date? = nil) -> Date? {
        let instant = Self.instant(text)
        if let now {
            self.check(instant.map { $0 > now } ?? false, field, "Must be an ISO 8601 instant in the future.")
        } else {
            self.check(instant != nil, field, "Must be an ISO 8601 instant.")
        }
        return instant
    }

    /// An ISO 8601 instant with or without fractional seconds, with `Z` or a `±hh:mm` offset.
    static func instant(_ text: String) -> Date? {
        guard let match = text.wholeMatch(of: /(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))/),
            let instant = (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
        else { return nil }
        // Foundation's parser rolls fields over (minute 99 becomes the next hour, February 30 a day of March): the
        // instant must spell back to the fields that were written.
        var offset = 0
        if let sign = match.4, let hours = match.5.flatMap({ Int($0) }), let minutes = match.6.flatMap({ Int($0) }) {
            guard hours < 24, minutes < 60 else { return nil }
            offset = (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
        }
        guard let zone = TimeZone(secondsFromGMT: offset),
            Date.ISO8601FormatStyle(timeZone: zone).format(instant).hasPrefix(match.1)
        else { return nil }
        return instant
    }

    public func validate() throws {
        if !self.errors.isEmpty { throw Problem.validation(self.errors, total: self.count) }
    }
}

extension StringProtocol {
    /// The length of a text as the database counts it: Unicode code points, PostgreSQL's `char_length`. Swift's
    /// `count` counts grapheme clusters, so an emoji family of five code points counts 1 there and 5 in a
    /// `VARCHAR(500)`: every length rule on user text goes through this.
    public var lengthInCodePoints: Int { self.unicodeScalars.count }

    /// At most `limit` code points, with `…` marking a cut.
    func truncated(to limit: Int) -> String {
        let scalars = self.unicodeScalars
        guard scalars.count > limit else { return String(self) }
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: scalars.prefix(limit - 1))
        return String(kept) + "…"
    }
}

extension FieldError {
    /// A value sent by the client, quoted and cut short enough for a message (a UUID fits whole).
    static func quoting(_ value: String) -> String {
        "\"\(value.truncated(to: 40))\""
    }
}
