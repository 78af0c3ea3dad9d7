import SQLKit

/// Every difference between SQLite and PostgreSQL that Reelbase's SQL depends on, in one place.
///
/// Stores write one SQL text and splice these fragments in; nothing else in the code base asks
/// which database it is talking to.
public enum SQLDialectKind: Sendable {
    case sqlite
    case postgres

    // MARK: Column types (used by migrations)

    /// UUIDs: native on Postgres; uppercase TEXT on SQLite, which is how sqlite-kit binds `UUID`.
    var uuidType: String { self == .postgres ? "UUID" : "TEXT" }
    /// Instants: `timestamptz` on Postgres; REAL Unix seconds on SQLite, which is how sqlite-kit binds `Date`.
    var timestampType: String { self == .postgres ? "TIMESTAMPTZ" : "REAL" }
    var boolType: String { self == .postgres ? "BOOLEAN" : "INTEGER" }
    var bigintType: String { self == .postgres ? "BIGINT" : "INTEGER" }
    var jsonType: String { self == .postgres ? "JSONB" : "TEXT" }

    // MARK: Expressions

    /// The wall clock at the moment the statement runs (not at transaction start), so rows written later
    /// in one transaction never carry an earlier time.
    var now: SQLQueryString {
        switch self {
        case .postgres: "clock_timestamp()"
        case .sqlite: "((julianday('now') - 2440587.5) * 86400.0)"
        }
    }

    /// `column = ANY($1)` on Postgres (one statement shape whatever the count); `column IN (?, ?, …)` on SQLite.
    func column(_ column: SQLQueryString, isIn values: [some Encodable & Sendable]) -> SQLQueryString {
        switch self {
        case .postgres: "\(column) = ANY(\(bind: values))"
        case .sqlite: "\(column) IN (\(binds: values))"
        }
    }

    /// An instant column as an exact number for list cursors: the stored REAL seconds on SQLite, whole
    /// microseconds on Postgres. A `Date` does not survive the round trip (both drivers convert through a
    /// rounded `Double`), and a key that moved by a microsecond would skip rows tied with the last one shown.
    func exactInstant(_ column: SQLQueryString) -> SQLQueryString {
        switch self {
        case .postgres: "CAST(EXTRACT(EPOCH FROM \(column)) * 1000000 AS DOUBLE PRECISION)"
        case .sqlite: "\(column)"
        }
    }

    /// The instant an ``exactInstant(_:)`` value stands for, to compare an instant column with.
    /// Exact on Postgres: whole microseconds below 2^53 are exact in a `Double`, and so is their product with 1 µs.
    func instant(exact value: Double) -> SQLQueryString {
        switch self {
        case .postgres: "(TIMESTAMPTZ 'epoch' + \(bind: value) * INTERVAL '1 microsecond')"
        case .sqlite: "\(bind: value)"
        }
    }

    /// A bound JSON document (`extra_data`).
    func json(_ text: String) -> SQLQueryString {
        switch self {
        case .postgres: "CAST(\(bind: text) AS JSONB)"
        case .sqlite: "\(bind: text)"
        }
    }

    /// One text field of a JSON column, as an expression an index can be built on (`extra_data`'s keys).
    func jsonText(_ column: String, _ key: String) -> SQLQueryString {
        switch self {
        case .postgres: "(\(ident: column) ->> \(literal: key))"
        case .sqlite: "json_extract(\(ident: column), \(literal: "$." + key))"
        }
    }

    /// The statement that opens a write transaction. SQLite must take its single write lock up front:
    /// a deferred `BEGIN` that upgrades later fails with "database is locked" under concurrency.
    var beginWrite: SQLQueryString {
        switch self {
        case .postgres: "BEGIN"
        case .sqlite: "BEGIN IMMEDIATE"
        }
    }

    /// Row locking for a read inside a write transaction. SQLite already holds the database-wide write lock.
    var forUpdate: SQLQueryString { self == .postgres ? " FOR UPDATE" : "" }

    /// A statement locking rows that must not change under a write, in the strength `lock` asks for; `nil` on SQLite,
    /// whose `BEGIN IMMEDIATE` already runs write transactions one at a time. `query` must list the rows in a fixed
    /// order (`ORDER BY id`), so that two writers locking the same rows never deadlock.
    func locking(_ query: SQLQueryString, _ lock: RowLock) -> SQLQueryString? {
        guard self == .postgres else { return nil }
        switch lock {
        case .exclusive: return query + " FOR UPDATE"
        case .keyShare: return query + " FOR KEY SHARE"
        case .counterUpdate: return query + " FOR NO KEY UPDATE"
        }
    }

    /// Like ``forUpdate`` but skipping rows other workers hold, so claimers never queue behind each other.
    var forUpdateSkipLocked: SQLQueryString { self == .postgres ? " FOR UPDATE SKIP LOCKED" : "" }

    /// Serialises concurrent migrators (several instances starting at once). SQLite's `BEGIN IMMEDIATE` already does.
    var migrationLock: SQLQueryString? {
        self == .postgres ? "SELECT pg_advisory_xact_lock(7342619)" : nil
    }

    // MARK: Bulk loading (`reelbase seed-bench`)

    /// The most parameters one statement may bind: Postgres' wire protocol counts them in 16 bits, SQLite's
    /// SQLITE_MAX_VARIABLE_NUMBER defaults to 32766.
    var maxBindParameters: Int { self == .postgres ? 65535 : 32766 }

    /// Write transactions worth running side by side: Postgres inserts into one table from several sessions at
    /// once, SQLite has one writer and would only make the others wait out its busy timeout.
    var bulkWriters: Int { self == .postgres ? 3 : 1 }

    /// Refreshes the planner's statistics after a bulk load. On Postgres `VACUUM` also sets the visibility map,
    /// without which index-only scans (the batch checks) still visit the heap, and it reclaims the row versions
    /// that set-based counter updates leave behind. It cannot run inside a transaction.
    var refreshStatistics: SQLQueryString { self == .postgres ? "VACUUM (ANALYZE)" : "ANALYZE" }

    /// Triggers that refuse `UPDATE` and `DELETE` on a table: ledger rows are corrected by new rows, never edited.
    func appendOnly(table: String) -> [SQLQueryString] {
        switch self {
        case .postgres:
            [
                """
                CREATE OR REPLACE FUNCTION reelbase_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$
                """,
                "CREATE TRIGGER \(ident: table + "_append_only") BEFORE UPDATE OR DELETE ON \(ident: table) FOR EACH ROW EXECUTE FUNCTION reelbase_append_only()",
            ]
        case .sqlite:
            [
                "CREATE TRIGGER \(ident: table + "_no_update") BEFORE UPDATE ON \(ident: table) BEGIN SELECT RAISE(ABORT, \(literal: table + " is append-only")); END",
                "CREATE TRIGGER \(ident: table + "_no_delete") BEFORE DELETE ON \(ident: table) BEGIN SELECT RAISE(ABORT, \(literal: table + " is append-only")); END",
            ]
        }
    }
}

/// How strongly ``SQLDialectKind/locking(_:_:)`` locks rows on PostgreSQL.
enum RowLock: Sendable {
    /// `FOR UPDATE`: waits for, and holds off, every other lock on the rows (creating a block).
    case exclusive
    /// `FOR KEY SHARE`: the lock a foreign key check takes; writers holding it run side by side and still update the
    /// rows' counters, and only an ``exclusive`` lock waits for them (a like, bookmark or effect job).
    case keyShare
    /// `FOR NO KEY UPDATE`: the lock an `UPDATE` of the rows' counters takes, taken up front in id order by writers
    /// that will move both users' counters (a follow, an unfollow). Taken by the `UPDATE` itself, in whatever order
    /// its scan meets the rows, two such writers on the same pair deadlocked under load; it still excludes a block.
    case counterUpdate
}
