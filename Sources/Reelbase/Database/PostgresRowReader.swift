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
        guard self.cells.contains(column), case let cell = self.cells[column], !cell.dataType.isUserDefined, cell.dataType != .numeric
        else {
            return try self.row.sql().decode(column: column, as: T.self)
        }
        if let value = try Self.decodeCommon(cell, as: T.self) {
            return value
        }
        guard let direct = T.self as? any PostgresDecodable.Type, !(T.self is Decimal.Type) else {
            return try self.row.sql().decode(column: column, as: T.self)
        }
        return try Self.decode(direct, from: cell, as: T.self)
    }

    /// The types nearly every column is read as, decoded without opening `T` as `PostgresDecodable` (a dynamic
    /// conformance lookup and an unspecialised decode per cell): this method's share of the server's samples under the
    /// peer-bench feed went from 16.1 % to 13.6 %. `nil` for any other type.
    private static func decodeCommon<T>(_ cell: PostgresCell, as _: T.Type) throws -> T? {
        switch T.self {
        case is UUID.Type: try cell.decode(UUID.self) as? T
        case is String.Type: try cell.decode(String.self) as? T
        case is Int.Type: try cell.decode(Int.self) as? T
        case is Date.Type: try cell.decode(Date.self) as? T
        case is Double.Type: try cell.decode(Double.self) as? T
        case is Bool.Type: try cell.decode(Bool.self) as? T
        default: nil
        }
    }

    /// `Value` is `T` itself, opened from the existential so that postgres-nio's generic decoder can be called.
    private static func decode<Value: PostgresDecodable, T>(_: Value.Type, from cell: PostgresCell, as _: T.Type) throws -> T {
        guard let value = try cell.decode(Value.self) as? T else {
            throw DecodingError.typeMismatch(T.self, .init(codingPath: [], debugDescription: "column \(cell.columnName)"))
        }
        return value
    }
}
