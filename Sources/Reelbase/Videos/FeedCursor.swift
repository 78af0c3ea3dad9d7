import Crypto
import ExtrasBase64
import Foundation
import Hummingbird

/// A position in a newest-first list: the sort key of the last row a page showed. The next page starts strictly
/// after it, so rows inserted or deleted meanwhile never shift what follows (no duplicates, no skips).
struct FeedCursor: Sendable, Equatable {
    /// The row's instant exactly as ``SQLDialectKind/exactInstant(_:)`` reads it.
    var instant: Double
    /// Orders rows of the same instant.
    var id: UUID
    /// The row's relevance in a list ordered by relevance first (search), `nil` in lists ordered by time alone.
    var rank: Int64? = nil
}

extension FeedCursor {
    /// Turns cursors into opaque strings and back: base64url of the key followed by an HMAC-SHA256 tag over the
    /// key and the name of its list, so a client can neither forge a position nor carry a cursor to another list.
    struct Codec: Sendable {
        private let key: SymmetricKey
        /// Instant and id; a ranked cursor appends its rank, so every cursor without one spells as it always did.
        private static let keyLength = 24
        private static let rankedKeyLength = 32
        private static let tagLength = 32

        /// Derives the key from the server secret, so cursor tags and access tokens never share a key.
        init(secret: String) {
            let derived = HMAC<SHA256>.authenticationCode(
                for: Data("reelbase list cursor v1".utf8), using: SymmetricKey(data: Data(secret.utf8)))
            self.key = SymmetricKey(data: Data(derived))
        }

        func encode(_ cursor: FeedCursor, list: String) -> String {
            var payload = Data()
            withUnsafeBytes(of: cursor.instant.bitPattern.bigEndian) { payload.append(contentsOf: $0) }
            withUnsafeBytes(of: cursor.id.uuid) { payload.append(contentsOf: $0) }
            if let rank = cursor.rank { withUnsafeBytes(of: rank.bigEndian) { payload.append(contentsOf: $0) } }
            payload.append(contentsOf: self.tag(payload, list: list))
            return Base64.encodeToString(bytes: payload, options: [.base64UrlAlphabet, .omitPaddingCharacter])
        }

        /// The cursor a string encodes for `list`, or `nil` if it is garbled, forged or from another list.
        func decode(_ text: String, list: String) -> FeedCursor? {
            // Only the alphabet `encode` writes: the decoder would also take `=` padding, which no cursor carries.
            guard text.count <= 128, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
                let decoded = try? Base64.decode(string: text, options: [.base64UrlAlphabet, .omitPaddingCharacter]),
                [Self.keyLength, Self.rankedKeyLength].contains(decoded.count - Self.tagLength)
            else { return nil }
            let data = Data(decoded)
            let payload = data.prefix(decoded.count - Self.tagLength)
            guard HMAC<SHA256>.isValidAuthenticationCode(data.suffix(Self.tagLength), authenticating: self.message(payload, list: list), using: self.key)
            else { return nil }
            let bytes = [UInt8](payload)
            let bits = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let instant = Double(bitPattern: bits)
            guard instant.isFinite else { return nil }
            let u = Array(bytes[8..<24])
            let id = UUID(uuid: (u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]))
            // The tag covers the length too (it is part of the message), so a ranked cursor never passes for a plain one.
            let rank: Int64? = bytes.count == Self.rankedKeyLength ? Int64(bitPattern: bytes[24..<32].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) : nil
            return FeedCursor(instant: instant, id: id, rank: rank)
        }

        private func tag(_ payload: Data, list: String) -> HashedAuthenticationCode<SHA256> {
            HMAC<SHA256>.authenticationCode(for: self.message(payload, list: list), using: self.key)
        }

        private func message(_ payload: Data, list: String) -> Data {
            Data(list.utf8) + [0] + payload
        }
    }
}

/// The `?cursor=&limit=` of a cursor-paginated list, checked: `limit` is an integer in 1...100 (default 20), and
/// `cursor` is absent or empty (first page) or one this server issued for the same list.
struct PageRequest: Sendable {
    static let defaultLimit = 20
    static let limits = 1...100

    var limit: Int
    var after: FeedCursor?

    init(_ request: Request, list: String, cursors: FeedCursor.Codec) throws {
        let query = request.uri.queryParameters
        var validator = Validator()
        var limit = Self.defaultLimit
        if let text = query.get("limit") {
            let value = Int(text)
            validator.check(value.map(Self.limits.contains) ?? false, "limit", "Must be an integer from 1 to 100.")
            limit = value ?? limit
        }
        var after: FeedCursor?
        if let text = query.get("cursor"), !text.isEmpty {
            after = cursors.decode(text, list: list)
            validator.check(after != nil, "cursor", "Is not a cursor of this list; start again without one.")
        }
        try validator.validate()
        self.limit = limit
        self.after = after
    }
}

/// One page of a newest-first list, and the position after its last row when more rows follow.
struct Page<Item: Sendable>: Sendable {
    var items: [Item]
    var next: FeedCursor?

    /// Builds a page from up to `limit + 1` rows: the extra row only tells that more follow.
    init(rows: [Item], limit: Int, key: (Item) -> FeedCursor) {
        self.items = Array(rows.prefix(limit))
        self.next = rows.count > limit ? self.items.last.map(key) : nil
    }

    /// The same page with its rows transformed (the position stays).
    func map<T>(_ transform: (Item) throws -> T) rethrows -> Page<T> {
        Page<T>(items: try self.items.map(transform), next: self.next)
    }

    private init(items: [Item], next: FeedCursor?) {
        self.items = items
        self.next = next
    }
}

/// The answer of every cursor list: `{<items key>: [...], next_cursor, has_more}`; `next_cursor` is `null` on the
/// last page and `has_more` says the same.
struct CursorPageResponse<Item: Encodable & Sendable>: ResponseEncodable, Sendable {
    var itemsKey: String
    var items: [Item]
    var nextCursor: String?

    init(_ itemsKey: String, items: [Item], nextCursor: String?) {
        self.itemsKey = itemsKey
        self.items = items
        self.nextCursor = nextCursor
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { self.stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(self.items, forKey: Key(self.itemsKey))
        try container.encode(self.nextCursor, forKey: Key("next_cursor"))
        try container.encode(self.nextCursor != nil, forKey: Key("has_more"))
    }
}

extension CursorPageResponse {
    /// The whole answer of a cursor list but its query: reads `?cursor=&limit=` for `list`, loads that page with `rows`
    /// and answers its items under `itemsKey`, with a cursor after the last one that only `list` accepts.
    init<Row>(
        _ itemsKey: String, request: Request, list: String, cursors: FeedCursor.Codec,
        rows: (PageRequest) async throws -> Page<Row>, item: (Row) -> Item
    ) async throws {
        let page = try PageRequest(request, list: list, cursors: cursors)
        let result = try await rows(page)
        self.init(itemsKey, items: result.items.map(item), nextCursor: result.next.map { cursors.encode($0, list: list) })
    }
}
