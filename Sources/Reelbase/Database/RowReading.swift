import SQLKit

/// A record read straight from a row's columns: `init(row:)` names each column it reads.
///
/// Used instead of SQLKit's `Codable` row decoder (`all(decoding:)`), which for every cell builds the column's name
/// anew, looks it up twice and goes through boxed keyed containers and generic metadata: in the feed's profile
/// (20 videos with their owners, 25 columns a row) it was 30 % of the server's samples, over half of it that machinery
/// rather than the reading itself. The cells are read with the row's own `decode(column:as:)`, as that decoder reads
/// them, so every value decodes as it did.
protocol SQLRowReadable: Sendable {
    init(row: any SQLRow) throws
}

extension SQLQueryFetcher {
    func all<Record: SQLRowReadable>(reading _: Record.Type) async throws -> [Record] {
        try await self.all().map { try Record(row: $0) }
    }

    func first<Record: SQLRowReadable>(reading _: Record.Type) async throws -> Record? {
        try await self.first().map { try Record(row: $0) }
    }
}

extension SQLRow {
    /// The column's value, or `nil` when it is `NULL` or not in the row (as `decodeIfPresent` reads a key).
    func decodeIfPresent<Value: Decodable>(column: String, as _: Value.Type) throws -> Value? {
        try self.decodeNil(column: column) ? nil : self.decode(column: column, as: Value.self)
    }
}
