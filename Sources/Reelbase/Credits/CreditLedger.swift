import Foundation
import SQLKit

/// Every movement of credits, and the only code that changes a balance.
///
/// The rules it keeps (API.md, "Ledger rules"):
/// - a balance changes only together with exactly one `credit_transactions` row, in the same transaction;
/// - the balance never goes below zero: the change is one conditional `UPDATE`, which the database applies
///   atomically, so concurrent spends cannot both pass a check made before either writes;
/// - each row's `balance_after` is the balance that `UPDATE` returned, and its `sequence` the user's ledger
///   counter bumped by the same statement, so rows are numbered in the order they were written;
/// - rows are never updated or deleted (the table has triggers refusing it); corrections are new rows;
/// - each row also appends a `balance` event to its owner's outbox, in the same transaction.
///
/// Why the ledger refused a movement; nothing was written.
enum LedgerError: Error, Sendable, Equatable {
    /// The removal is larger than the balance.
    case insufficientCredits(required: Int, balance: Int)
    /// No user has that id.
    case unknownUser
}

struct CreditLedger: Sendable {
    let dialect: SQLDialectKind

    enum TransactionType: String, Codable, CaseIterable, Sendable {
        case purchase, usage, refund, bonus
    }

    /// One change of one balance. `credits` is signed: positive adds, negative removes.
    struct Movement: Sendable {
        var userID: UUID
        var type: TransactionType
        var credits: Int
        var description: String
        var extraData: [String: String]? = nil
    }

    /// The ledger row a movement wrote.
    struct Entry: Sendable, Decodable {
        var id: UUID
        var credits: Int
        var balanceAfter: Int
        var sequence: Int
        enum CodingKeys: String, CodingKey {
            case id, credits, sequence
            case balanceAfter = "balance_after"
        }
    }

    /// The balance and ledger counter that one conditional update left.
    private struct BalanceRow: Decodable {
        var credits: Int
        var ledgerSequence: Int
        enum CodingKeys: String, CodingKey {
            case credits
            case ledgerSequence = "ledger_sequence"
        }
    }

    /// Applies `movement` on `connection`, which must be inside a write transaction (``Database/transaction(_:)``).
    ///
    /// A removal larger than the balance throws ``LedgerError/insufficientCredits(required:balance:)``, having
    /// written nothing; the caller's transaction rolls back whatever else it wrote.
    func apply(_ movement: Movement, on connection: any SQLDatabase) async throws -> Entry {
        precondition(movement.credits != 0, "a ledger row moves at least one credit")
        guard
            let balance = try await connection.raw(
                """
                UPDATE users SET credits = credits + \(bind: movement.credits), ledger_sequence = ledger_sequence + 1
                WHERE id = \(bind: movement.userID) AND credits + \(bind: movement.credits) >= 0
                RETURNING credits, ledger_sequence
                """
            ).first(decoding: BalanceRow.self)
        else {
            throw try await self.refusal(of: movement, on: connection)
        }
        let entry = Entry(id: UUID(), credits: movement.credits, balanceAfter: balance.credits, sequence: balance.ledgerSequence)
        let extraData: SQLQueryString = try movement.extraData.map { self.dialect.json(try Self.json($0)) } ?? "NULL"
        try await connection.raw(
            """
            INSERT INTO credit_transactions
                (id, user_id, sequence, transaction_type, credits, balance_after, description, extra_data, created_at)
            VALUES (\(bind: entry.id), \(bind: movement.userID), \(bind: entry.sequence), \(bind: movement.type.rawValue),
                    \(bind: entry.credits), \(bind: entry.balanceAfter), \(bind: movement.description), \(extraData),
                    \(self.dialect.now))
            """
        ).run()
        // The owner's streams learn the new balance once this transaction commits, one event per row.
        try await EventOutbox(dialect: self.dialect).append(
            .balance, payload: EventOutbox.Balance(balance: entry.balanceAfter), for: movement.userID, on: connection)
        Observability.ledgerRowWritten(movement.type)
        return entry
    }

    /// Why the conditional update matched no row: an unknown user, or not enough credits.
    private func refusal(of movement: Movement, on connection: any SQLDatabase) async throws -> LedgerError {
        guard
            let balance = try await connection.raw("SELECT credits FROM users WHERE id = \(bind: movement.userID)")
                .first(decodingColumn: "credits", as: Int.self)
        else { return .unknownUser }
        return .insufficientCredits(required: -movement.credits, balance: balance)
    }

    // MARK: Audit

    /// A user whose ledger does not add up.
    struct Mismatch: Codable, Sendable, Equatable {
        var userID: String
        var balance: Int
        var ledgerSum: Int
        /// Rows whose `balance_after` is not the running sum of the rows up to and including them.
        var badRowIDs: [String]

        enum CodingKeys: String, CodingKey {
            case balance
            case userID = "user_id"
            case ledgerSum = "ledger_sum"
            case badRowIDs = "bad_row_ids"
        }
    }

    /// Recomputes every balance and every running sum from the ledger rows alone.
    func audit(on database: any SQLDatabase) async throws -> (usersChecked: Int, mismatches: [Mismatch]) {
        let sums = try await database.raw(
            """
            SELECT u.id, u.credits, COALESCE(SUM(t.credits), 0) AS ledger_sum
            FROM users u LEFT JOIN credit_transactions t ON t.user_id = u.id
            GROUP BY u.id, u.credits
            """
        ).all(decoding: UserSum.self)
        let badRows = try await database.raw(
            """
            SELECT id, user_id FROM (
                SELECT id, user_id, balance_after,
                       SUM(credits) OVER (PARTITION BY user_id ORDER BY sequence ROWS UNBOUNDED PRECEDING) AS running
                FROM credit_transactions
            ) AS ledger
            WHERE running <> balance_after OR balance_after < 0
            """
        ).all(decoding: BadRow.self)
        let badRowsByUser = Dictionary(grouping: badRows, by: \.userID).mapValues { $0.map(\.id.lowercased) }
        let mismatches = sums.compactMap { sum -> Mismatch? in
            let bad = badRowsByUser[sum.id] ?? []
            guard sum.credits != sum.ledgerSum || !bad.isEmpty || sum.credits < 0 else { return nil }
            return Mismatch(userID: sum.id.lowercased, balance: sum.credits, ledgerSum: sum.ledgerSum, badRowIDs: bad)
        }
        return (sums.count, mismatches)
    }

    private struct UserSum: Decodable {
        var id: UUID
        var credits: Int
        var ledgerSum: Int
        enum CodingKeys: String, CodingKey {
            case id, credits
            case ledgerSum = "ledger_sum"
        }
    }

    private struct BadRow: Decodable {
        var id: UUID
        var userID: UUID
        enum CodingKeys: String, CodingKey {
            case id
            case userID = "user_id"
        }
    }

    private static let extraDataEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    private static func json(_ object: [String: String]) throws -> String {
        String(decoding: try Self.extraDataEncoder.encode(object), as: UTF8.self)
    }
}
