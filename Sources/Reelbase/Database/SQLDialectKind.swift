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

    /// A UUID column as lowercase text, the form `extra_data` holds ids in (`payment_id`): PostgreSQL's text of a UUID
    /// is lowercase already; SQLite stores the uppercase text sqlite-kit binds.
    func lowercaseText(ofUUID column: SQLQueryString) -> SQLQueryString {
        switch self {
        case .postgres: "CAST(\(column) AS TEXT)"
        case .sqlite: "lower(\(column))"
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

    /// Claims the rows of the listed tables of a join for an update of non-key columns (``RowLock/counterUpdate``'s
    /// strength), skipping rows another transaction holds; empty on SQLite, whose write lock is already held.
    func forNoKeyUpdateSkipLocked(of tables: [String]) -> SQLQueryString {
        guard self == .postgres else { return "" }
        return " FOR NO KEY UPDATE OF \(unsafeRaw: tables.joined(separator: ", ")) SKIP LOCKED"
    }

    /// A new random UUID, in the form the driver reads back (uppercase text on SQLite).
    var randomUUID: SQLQueryString {
        switch self {
        case .postgres: "gen_random_uuid()"
        case .sqlite:
            """
            upper(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
                  substr('89AB', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))
            """
        }
    }

    /// Statements giving `column` of `table` a new `CHECK` (`check`): PostgreSQL replaces the column's constraint in
    /// place; SQLite cannot alter a constraint, so the rows move to a table made by `definition` (the same columns in
    /// the same order, with the new check) that then takes the old one's name, and `rebuild` makes again the indexes
    /// and triggers that went with the old table. Only for a table no foreign key points at: SQLite cannot switch
    /// foreign keys off inside the migration's transaction.
    func replacingCheck(
        table: String, column: String, definition: (String) -> SQLQueryString, check: SQLQueryString, rebuild: [SQLQueryString]
    ) -> [SQLQueryString] {
        switch self {
        case .postgres:
            // PostgreSQL's name for a column's CHECK written without a name.
            let constraint = "\(table)_\(column)_check"
            return [
                "ALTER TABLE \(ident: table) DROP CONSTRAINT \(ident: constraint)",
                "ALTER TABLE \(ident: table) ADD CONSTRAINT \(ident: constraint) \(check)",
            ]
        case .sqlite:
            let copy = table + "_new"
            return [
                definition(copy),
                "INSERT INTO \(ident: copy) SELECT * FROM \(ident: table)",
                "DROP TABLE \(ident: table)",
                "ALTER TABLE \(ident: copy) RENAME TO \(ident: table)",
            ] + rebuild
        }
    }

    /// Serialises concurrent migrators (several instances starting at once). SQLite's `BEGIN IMMEDIATE` already does.
    var migrationLock: SQLQueryString? {
        self == .postgres ? "SELECT pg_advisory_xact_lock(7342619)" : nil
    }

    // MARK: Search (`Search/`)

    /// The statements that index a column of normalised words (``SearchText``) for word-prefix search.
    ///
    /// PostgreSQL: a GIN index over the words as a `tsvector`, built with `array_to_tsvector`, so each stored word is
    /// one lexeme exactly as Swift cut it (no text-search parser or dictionary in between), partial on `indexed.live`.
    /// SQLite: an FTS5 table with the `ascii` tokenizer, which splits on ASCII non-alphanumerics only and keeps every
    /// non-ASCII character, so again each stored word is one token as Swift cut it (`unicode61` would split off
    /// combining marks Swift keeps on a letter, and fold case again by its own tables). FTS5 rows need integer keys,
    /// and a UUID-keyed table has only a rowid that `VACUUM` may renumber, so a key table gives each row a stable one;
    /// triggers keep both in step with the column inside the writing statement's transaction.
    func wordIndex(_ indexed: WordIndex) -> [SQLQueryString] {
        let table = indexed.table, column = indexed.column
        switch self {
        case .postgres:
            return [
                """
                CREATE INDEX \(ident: indexed.name("words")) ON \(ident: table)
                USING GIN (\(self.lexemes("\(ident: column)")))
                WHERE \(indexed.live)
                """
            ]
        case .sqlite:
            let keys = indexed.name("keys"), fts = indexed.name("fts")
            let key: SQLQueryString = "(SELECT fts_key FROM \(ident: keys) WHERE row_id = new.id)"
            return [
                "CREATE TABLE \(ident: keys) (fts_key INTEGER PRIMARY KEY, row_id TEXT NOT NULL UNIQUE)",
                // Contentless: the words are in the row already; `detail=none` keeps only which rows hold a token,
                // all that prefix and AND queries need.
                """
                CREATE VIRTUAL TABLE \(ident: fts) USING fts5(
                    words, content = '', contentless_delete = 1, tokenize = 'ascii', detail = 'none')
                """,
                // Rows already there (a migration of a live database); their words follow with the backfill's UPDATE.
                "INSERT INTO \(ident: keys) (row_id) SELECT id FROM \(ident: table)",
                "INSERT INTO \(ident: fts) (rowid, words) SELECT fts_key, '' FROM \(ident: keys)",
                """
                CREATE TRIGGER \(ident: indexed.name("insert")) AFTER INSERT ON \(ident: table) BEGIN
                    INSERT INTO \(ident: keys) (row_id) VALUES (new.id);
                    INSERT INTO \(ident: fts) (rowid, words) VALUES (\(key), new.\(ident: column));
                END
                """,
                """
                CREATE TRIGGER \(ident: indexed.name("update")) AFTER UPDATE OF \(ident: column) ON \(ident: table) BEGIN
                    DELETE FROM \(ident: fts) WHERE rowid = \(key);
                    INSERT INTO \(ident: fts) (rowid, words) VALUES (\(key), new.\(ident: column));
                END
                """,
                """
                CREATE TRIGGER \(ident: indexed.name("delete")) AFTER DELETE ON \(ident: table) BEGIN
                    DELETE FROM \(ident: fts) WHERE rowid = (SELECT fts_key FROM \(ident: keys) WHERE row_id = old.id);
                    DELETE FROM \(ident: keys) WHERE row_id = old.id;
                END
                """,
            ]
        }
    }

    /// True when every one of `words` (``SearchText`` words, at least one) is the start of a word of the indexed
    /// column, answered by ``wordIndex(_:)``'s index. The words travel as one bound value in the engine's query syntax,
    /// each quoted as a literal (tsquery `'…'`, FTS5 `"…"`), so nothing in them is ever an operator.
    func matchesWordPrefixes(_ indexed: WordIndex, _ words: [String]) -> SQLQueryString {
        switch self {
        case .postgres:
            let query = words.map { "'" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "':*" }
                .joined(separator: " & ")
            return "\(self.lexemes("\(ident: indexed.table).\(ident: indexed.column)")) @@ CAST(\(bind: query) AS tsquery)"
        case .sqlite:
            let query = words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"*" }.joined(separator: " AND ")
            let keys = indexed.name("keys"), fts = indexed.name("fts")
            return """
                \(ident: indexed.table).id IN (
                    SELECT \(ident: keys).row_id FROM \(ident: fts) JOIN \(ident: keys) ON \(ident: keys).fts_key = \(ident: fts).rowid
                    WHERE \(ident: fts) MATCH \(bind: query))
                """
        }
    }

    /// The stored words as a `tsvector`, one lexeme each: the expression of the GIN index and of every query using it.
    private func lexemes(_ column: SQLQueryString) -> SQLQueryString {
        "array_to_tsvector(string_to_array(\(column), ' '))"
    }

    /// The position of `needle` in `haystack` counted from 1, 0 when absent (`strpos` / `instr`).
    func position(of needle: SQLQueryString, in haystack: SQLQueryString) -> SQLQueryString {
        switch self {
        case .postgres: "strpos(\(haystack), \(needle))"
        case .sqlite: "instr(\(haystack), \(needle))"
        }
    }

    /// A text column compared by code point (byte order of UTF-8), whatever the database's collation, so that a range
    /// `[p, p + U+10FFFF)` holds exactly the values starting with `p`. SQLite's default `BINARY` collation already is.
    func codePointOrder(_ column: SQLQueryString) -> SQLQueryString {
        switch self {
        case .postgres: "(\(column) COLLATE \"C\")"
        case .sqlite: column
        }
    }

    /// An index serving ``codePointOrder(_:)`` comparisons of a column that already has a unique index: on PostgreSQL
    /// that one follows the database's collation, which may not be code-point order, so a second one is needed; on
    /// SQLite the unique index already is in that order.
    func codePointIndex(name: String, table: String, column: String) -> [SQLQueryString] {
        switch self {
        case .postgres: ["CREATE INDEX \(ident: name) ON \(ident: table) (\(ident: column) COLLATE \"C\")"]
        case .sqlite: []
        }
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

/// A column of normalised words (``SearchText``) that ``SQLDialectKind/wordIndex(_:)`` indexes: its table (keyed by a
/// UUID `id`), and the condition of the rows searches may return, stated as the queries state it (PostgreSQL indexes
/// only those rows; SQLite indexes all, and the query's condition filters).
struct WordIndex: Sendable {
    let table: String
    let column: String
    /// Unqualified column names: it is also the partial index's `WHERE`.
    let live: SQLQueryString

    /// The name of one of the index's objects.
    func name(_ suffix: String) -> String { "\(self.table)_\(self.column)_\(suffix)" }
}
