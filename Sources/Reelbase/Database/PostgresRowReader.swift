import Foundation
import PostgresKit
import PostgresNIO
import SQLKit

/// A row of a prepared statement as SQLKit reads it, decoding each value straight through postgres-nio.
///
/// postgres-kit's own row reader (`PostgresRow.sql()`) takes the same postgres-nio path for these types, but first
/// builds a coding path with a formatted column name and an array of type workarounds for every value it reads. In a
/// profile of the feed (20 videos with their owners, 25 columns a row) reading rows took 31 % of the server's
/// samples, more than encoding the JSON answer. Cells those workarounds are for (a user-defined type, `numeric`, a
/// `Decimal`) and types postgres-nio cannot decode by itself still go through postgres-kit, so every value decodes as
/// it did.
struct PostgresRowReader: SQLRow {
    private let row: PostgresRow
    private let cells: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        self.row = row
        self.cells = row.makeRandomAccess()
    }

    var allColumns: [String] { self.cells.map(\.columnName) }

    func contains(column: String) -> Bool { self.cells.contains(column) }

    func decodeNil(column: String) throws -> Bool {
        !self.cells.contains(column) || self.cells[column].bytes == nil
    }

    func decode<T: Decodable>(column: String, as type: T.Type) throws -> T {
        guard
            let direct = T.self as? any PostgresDecodable.Type, self.cells.contains(column),
            case let cell = self.cells[column], !cell.dataType.isUserDefined, cell.dataType != .numeric, !(T.self is Decimal.Type)
        else {
            return try self.row.sql().decode(column: column, as: T.self)
        }
        return try Self.decode(direct, from: cell, as: T.self)
    }

    /// `Value` is `T` itself, opened from the existential so that postgres-nio's generic decoder can be called.
    private static func decode<Value: PostgresDecodable, T>(_: Value.Type, from cell: PostgresCell, as _: T.Type) throws -> T {
        guard let value = try cell.decode(Value.self) as? T else {
            throw DecodingError.typeMismatch(T.self, .init(codingPath: [], debugDescription: "column \(cell.columnName)"))
        }
        return value
    }
}
