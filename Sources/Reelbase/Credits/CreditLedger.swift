import Foundation
import SQLKit

/// Every movement of credits, and the only code that changes a balance or a lot.
///
/// The rules it keeps (API.md, "Ledger rules" and "Credit lots"):
/// - a balance changes only together with exactly one `credit_transactions` row, in the same transaction;
/// - the balance never goes below zero: the change is one conditional `UPDATE`, which the database applies
///   atomically, so concurrent spends cannot both pass a check made before either writes;
/// - each row's `balance_after` is the balance that `UPDATE` returned, and its `sequence` the user's ledger
///   counter bumped by the same statement, so rows are numbered in the order they were written;
/// - rows are never updated or deleted (the table has triggers refusing it); corrections are new rows;
/// - each row also appends a `balance` event to its owner's outbox, in the same transaction;
/// - a user's lots (`credit_lots`) hold exactly their balance: a row adding credits opens a lot (or returns them to
///   the lots a refunded spend drew from); a row removing credits takes them from lots, recording each draw in
///   `credit_lot_draws`, so that every lot's `remaining` is its `granted` less its draws;
/// - every transaction that removes credits first locks the user's row and expires their overdue lots (one `expiry`
///   row per lot), so concurrent spends, refunds and sweeps of one user run one after the other.
///
/// Why the ledger refused a movement; nothing was written.
enum LedgerError: Error, Sendable, Equatable {
    /// The removal is larger than the balance.
    case insufficientCredits(required: Int, balance: Int)
    /// The addition would take the balance above the movement's limit (grants: ``CreditLedger/grantBalanceLimit``).
    case balanceLimit(limit: Int, balance: Int)
    /// No user has that id.
    case unknownUser
}

struct CreditLedger: Sendable {
    let dialect: SQLDialectKind

    /// The highest balance a grant may leave (API.md). Payments are credited whatever the balance.
    static let grantBalanceLimit = 2_000_000_000

    enum TransactionType: String, Codable, CaseIterable, Sendable {
        case purchase, usage, refund, bonus, subscription, expiry
    }

    /// One change of one balance. `credits` is signed: positive adds, negative removes.
    struct Movement: Sendable {
        var userID: UUID
        var type: TransactionType
        var credits: Int
        var description: String
        var extraData: [String: String]? = nil
        /// When the lot opened by added credits expires; `nil`: never.
        var expiresAt: Date? = nil
        /// The earlier row this one undoes. Added credits go back to the lots that row drew from (a failed job's
        /// refund of its usage); removed credits come first out of the lot that row opened (a card refund of its
        /// purchase).
        var undoing: UUID? = nil
        /// The highest balance the movement may leave; `nil`: no limit.
        var balanceLimit: Int? = nil
        /// When the row (and the lot it opens) says it was written; `nil`: now. Only a loader writing a past history
        /// sets it (`seed-bench --layout peer`), in the order of the user's rows.
        var recordedAt: Date? = nil

        /// The instant its rows carry.
        func recorded(_ dialect: SQLDialectKind) -> SQLQueryString {
            self.recordedAt.map { "\(bind: $0)" } ?? dialect.now
        }
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

    /// A lot still holding credits, and the description of the row that opened it (`nil`: a balance from before lots).
    struct Lot: Sendable, Decodable {
        var id: UUID
        var userID: UUID
        var remaining: Int
        var openedBy: String?

        enum CodingKeys: String, CodingKey {
            case id, remaining
            case userID = "user_id"
            case openedBy = "opened_by"
        }

        /// Read from `credit_lots l LEFT JOIN credit_transactions t ON t.id = l.transaction_id`.
        static let columns: SQLQueryString = "l.id, l.user_id, l.remaining, t.description AS opened_by"
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
    /// A removal first expires the user's overdue lots, then draws on the lots left. A removal larger than the balance
    /// throws ``LedgerError/insufficientCredits(required:balance:)`` (the balance after those expiries) and an
    /// addition above `balanceLimit` ``LedgerError/balanceLimit(limit:balance:)``, having written no row for the
    /// movement; the caller's transaction rolls back whatever else it wrote.
    func apply(_ movement: Movement, on connection: any SQLDatabase) async throws -> Entry {
        precondition(movement.credits != 0, "a ledger row moves at least one credit")
        guard movement.credits < 0 else {
            let entry = try await self.write(movement, on: connection)
            try await self.add(movement, as: entry, on: connection)
            return entry
        }
        let spendable = try await self.lockLots(
            of: movement.userID, drawOrderUndoing: movement.undoing, wanting: -movement.credits, on: connection)
        let entry = try await self.write(movement, on: connection)
        try await self.draw(movement, from: spendable.lots, as: entry, on: connection)
        return entry
    }

    /// Expires `userID`'s lots that are past their expiry, one `expiry` row each, and returns the balance left.
    /// Throws ``LedgerError/unknownUser``.
    @discardableResult
    func expireOverdueLots(of userID: UUID, on connection: any SQLDatabase) async throws -> Int {
        try await self.lockLots(of: userID, drawOrderUndoing: nil, wanting: nil, on: connection).balance
    }

    /// A lot holding credits and whether it is past its expiry, by the database's clock.
    private struct HeldLot: Decodable {
        var lot: Lot
        var overdue: Bool

        enum CodingKeys: String, CodingKey { case overdue }

        init(from decoder: any Decoder) throws {
            self.lot = try Lot(from: decoder)
            self.overdue = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .overdue) != 0
        }
    }

    /// Locks the user's row, expires their overdue lots and returns the balance left with the lots holding credits, in
    /// the order a removal draws on them: first the lot the undone row opened, then soonest expiry first, never-expiring
    /// lots last, ties oldest first. A removal of `wanted` credits gets at least the lots that cover it (all of them when
    /// they do not); `nil` wants none, only the expiry.
    ///
    /// The lock comes first (PostgreSQL; SQLite's write transactions run one at a time): every transaction that moves
    /// this user's credits takes the same lock before it touches a lot, so none reads a lot another is changing. It is
    /// the one the balance's `UPDATE` takes anyway (``RowLock/counterUpdate``): a stronger one would also wait for, and
    /// deadlock with, the key-share locks that the user's own likes and job requests hold on the row.
    ///
    /// One read serves both the expiry and the draw, and it reads the first ``lotsReadFirst`` lots only: a wallet
    /// holds a lot per purchase it has not spent yet, and reading them all made every spend slower than the one before
    /// (effect jobs fell round after round in `ab.sh`). Overdue lots come first in this order, so the first read holds
    /// them all unless it holds nothing else; only then, or when its lots cover less than `wanted`, are all read.
    private func lockLots(
        of userID: UUID, drawOrderUndoing undone: UUID?, wanting wanted: Int?, on connection: any SQLDatabase
    ) async throws -> (balance: Int, lots: [Lot]) {
        let read: SQLQueryString = "SELECT credits FROM users WHERE id = \(bind: userID)"
        guard
            var balance = try await connection.raw(self.dialect.locking(read, .counterUpdate) ?? read)
                .first(decodingColumn: "credits", as: Int.self)
        else { throw LedgerError.unknownUser }
        var lots: [Lot] = []
        for limit in [Self.lotsReadFirst, nil] {
            let held = try await self.heldLots(of: userID, drawOrderUndoing: undone, limit: limit, on: connection)
            lots = []
            for entry in held {
                if entry.overdue {
                    balance = try await self.expire(entry.lot, on: connection)
                } else {
                    lots.append(entry.lot)
                }
            }
            let readAll = held.count < Self.lotsReadFirst
            let covered = lots.reduce(0) { $0 + $1.remaining } >= (wanted ?? 0)
            if readAll || (!lots.isEmpty && covered) { break }
        }
        return (balance, lots)
    }

    /// Lots a removal reads before it knows whether it needs more.
    static let lotsReadFirst = 8

    /// The user's lots holding credits in draw order, the first `limit` of them (`nil`: all). The order uses the lot's
    /// own columns only, so the limit applies before the join that names each lot's opening row, and it is the order of
    /// the `credit_lots_user_open` index, so the database reads the first lots off it rather than sorting them all
    /// (a spend that undoes a row puts that row's lot first and sorts). Ties go by `created_at`, which follows the
    /// ledger because a user's lots are opened one at a time under their row lock.
    private func heldLots(
        of userID: UUID, drawOrderUndoing undone: UUID?, limit: Int?, on connection: any SQLDatabase
    ) async throws -> [HeldLot] {
        func order(_ lot: String) -> SQLQueryString {
            let undoneFirst: SQLQueryString = undone.map { "CASE WHEN \(unsafeRaw: lot).transaction_id = \(bind: $0) THEN 0 ELSE 1 END, " } ?? ""
            return undoneFirst
                + "(\(unsafeRaw: lot).expires_at IS NULL), \(unsafeRaw: lot).expires_at, \(unsafeRaw: lot).created_at, \(unsafeRaw: lot).id"
        }
        let limited: SQLQueryString = limit.map { " \(limit: $0)" } ?? ""
        return try await connection.raw(
            """
            SELECT l.id, l.user_id, l.remaining, t.description AS opened_by, l.overdue
            FROM (
                SELECT c.id, c.user_id, c.remaining, c.transaction_id, c.expires_at, c.created_at,
                       CASE WHEN c.expires_at <= \(self.dialect.now) THEN 1 ELSE 0 END AS overdue
                FROM credit_lots c
                WHERE c.user_id = \(bind: userID) AND NOT c.depleted
                ORDER BY \(order("c"))\(limited)
            ) l LEFT JOIN credit_transactions t ON t.id = l.transaction_id
            ORDER BY \(order("l"))
            """
        ).all(decoding: HeldLot.self)
    }

    /// Turns what is left of `lot` into one `expiry` row and returns the balance after it. The caller holds the
    /// owner's row and read `lot.remaining` under that lock, so the same credits are never expired twice.
    func expire(_ lot: Lot, on connection: any SQLDatabase) async throws -> Int {
        let movement = Movement(
            userID: lot.userID, type: .expiry, credits: -lot.remaining,
            description: "Expired: \(Self.withoutCreditCount(lot.openedBy ?? "credits")) (\(lot.remaining) credits)",
            extraData: ["lot_id": lot.id.lowercased])
        let entry = try await self.write(movement, on: connection)
        try await self.take(lot.remaining, from: lot.id, by: entry.id, on: connection)
        return entry.balanceAfter
    }

    /// `"Purchased Basic Pack (500 credits)"` → `"Purchased Basic Pack"`: an expiry row names what granted the lot
    /// and then its own count.
    static func withoutCreditCount(_ description: String) -> String {
        description.replacing(/\s*\(\d+ credits?\)$/, with: "")
    }

    /// The conditional update, the ledger row and the outbox event of one movement.
    private func write(_ movement: Movement, on connection: any SQLDatabase) async throws -> Entry {
        let limit: SQLQueryString = movement.balanceLimit.map { "AND credits + \(bind: movement.credits) <= \(bind: $0)" } ?? ""
        guard
            let balance = try await connection.raw(
                """
                UPDATE users SET credits = credits + \(bind: movement.credits), ledger_sequence = ledger_sequence + 1
                WHERE id = \(bind: movement.userID) AND credits + \(bind: movement.credits) >= 0 \(limit)
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
                    \(movement.recorded(self.dialect)))
            """
        ).run()
        // The owner's streams learn the new balance once this transaction commits, one event per row.
        try await EventOutbox(dialect: self.dialect).append(
            .balance, payload: EventOutbox.Balance(balance: entry.balanceAfter), for: movement.userID, on: connection)
        Observability.ledgerRowWritten(movement.type)
        return entry
    }

    /// Added credits: back into the lots the undone row drew from, as far as it drew (those past their expiry
    /// expire again at once, after this row), and the rest into a new lot.
    private func add(_ movement: Movement, as entry: Entry, on connection: any SQLDatabase) async throws {
        var unplaced = movement.credits
        if let undone = movement.undoing {
            let draws = try await connection.raw(
                "SELECT lot_id, credits FROM credit_lot_draws WHERE transaction_id = \(bind: undone) AND credits > 0 ORDER BY lot_id"
            ).all(decoding: Draw.self)
            var returned: [Draw] = []
            for draw in draws where unplaced > 0 {
                let back = min(draw.credits, unplaced)
                try await self.take(-back, from: draw.lotID, by: entry.id, on: connection)
                returned.append(Draw(lotID: draw.lotID, credits: back))
                unplaced -= back
            }
            if !returned.isEmpty {
                try await self.settleShortfalls(in: returned, of: movement.userID, on: connection)
                try await self.expireOverdueLots(of: movement.userID, on: connection)
            }
        }
        // Also the refund of a spend from before lots, which drew from none.
        guard unplaced > 0 else { return }
        let expiresAt: SQLQueryString = movement.expiresAt.map { "\(bind: $0)" } ?? "NULL"
        try await connection.raw(
            """
            INSERT INTO credit_lots (id, user_id, transaction_id, granted, remaining, expires_at, created_at)
            VALUES (\(bind: UUID()), \(bind: movement.userID), \(bind: entry.id), \(bind: unplaced), \(bind: unplaced),
                    \(expiresAt), \(movement.recorded(self.dialect)))
            """
        ).run()
    }

    /// A purchase's lot whose card refund the balance could not cover, as credits come back into it.
    private struct Shortfall: Decodable {
        var lotID: UUID
        var paymentID: UUID
        var purchaseID: UUID
        var purchase: String
        var shortfall: Int
        enum CodingKeys: String, CodingKey {
            case shortfall, purchase
            case lotID = "lot_id"
            case paymentID = "payment_id"
            case purchaseID = "purchase_id"
        }
    }

    /// Credits that came back into the lot of a purchase whose card refund fell short (the user had spent them on a
    /// job that has now failed) first settle that shortfall: a negative `refund` row naming the payment, out of that
    /// lot, and the payment's unsettled shortfall goes down by as much, so that its refund rows plus its shortfall are
    /// still its refunded credits. Only the rest is spendable. Every change of a shortfall happens under the owner's
    /// row lock (this movement's balance update holds it, a card refund takes it before it computes one), so the
    /// shortfall read here is current without locking the payment.
    private func settleShortfalls(in returned: [Draw], of userID: UUID, on connection: any SQLDatabase) async throws {
        let shortfalls = try await connection.raw(
            """
            SELECT l.id AS lot_id, p.id AS payment_id, t.id AS purchase_id, t.description AS purchase,
                   p.refund_shortfall_credits AS shortfall
            FROM credit_lots l
            JOIN credit_transactions t ON t.id = l.transaction_id
            JOIN payments p ON p.credited_transaction_id = t.id
            WHERE \(self.dialect.column("l.id", isIn: returned.map(\.lotID))) AND p.refund_shortfall_credits > 0
            """
        ).all(decoding: Shortfall.self)
        for lot in shortfalls {
            let back = returned.filter { $0.lotID == lot.lotID }.reduce(0) { $0 + $1.credits }
            let settled = min(back, lot.shortfall)
            _ = try await self.apply(
                Movement(
                    userID: userID, type: .refund, credits: -settled,
                    description: "Card refund: \(Self.packageName(ofPurchase: lot.purchase)) (\(settled) credits)",
                    extraData: ["payment_id": lot.paymentID.lowercased, "settled_shortfall": String(settled)],
                    undoing: lot.purchaseID),
                on: connection)
            try await connection.raw(
                "UPDATE payments SET refund_shortfall_credits = refund_shortfall_credits - \(bind: settled) WHERE id = \(bind: lot.paymentID)"
            ).run()
        }
    }

    /// `"Purchased Basic Pack (500 credits)"` (the description `PaymentStore` gives a purchase row) → `"Basic Pack"`.
    static func packageName(ofPurchase description: String) -> String {
        let name = Self.withoutCreditCount(description)
        return name.hasPrefix("Purchased ") ? String(name.dropFirst("Purchased ".count)) : name
    }

    /// Removed credits, out of `lots` in their order (``lockLots(of:drawOrderUndoing:on:)``'s).
    private func draw(_ movement: Movement, from lots: [Lot], as entry: Entry, on connection: any SQLDatabase) async throws {
        let wanted = -movement.credits
        var left = wanted
        for lot in lots where left > 0 {
            let taken = min(left, lot.remaining)
            try await self.take(taken, from: lot.id, by: entry.id, on: connection)
            left -= taken
        }
        // The balance covered the removal and the lots add up to the balance, so this means the books are broken:
        // refuse the whole transaction rather than write a row no lot backs.
        guard left == 0 else {
            throw UnexpectedRow("the lots of user \(movement.userID.lowercased) hold \(wanted - left) of the \(wanted) credits drawn")
        }
    }

    /// Moves `credits` out of `lot` (negative: back into it) for the row `transactionID`, and records the draw. The
    /// lot's CHECKs refuse a lot below zero or above its grant.
    private func take(_ credits: Int, from lot: UUID, by transactionID: UUID, on connection: any SQLDatabase) async throws {
        try await connection.raw("UPDATE credit_lots SET remaining = remaining - \(bind: credits) WHERE id = \(bind: lot)").run()
        try await connection.raw(
            "INSERT INTO credit_lot_draws (transaction_id, lot_id, credits) VALUES (\(bind: transactionID), \(bind: lot), \(bind: credits))"
        ).run()
    }

    private struct Draw: Decodable {
        var lotID: UUID
        var credits: Int
        enum CodingKeys: String, CodingKey {
            case credits
            case lotID = "lot_id"
        }
    }

    /// Why the conditional update matched no row: an unknown user, not enough credits, or too many.
    private func refusal(of movement: Movement, on connection: any SQLDatabase) async throws -> LedgerError {
        guard
            let balance = try await connection.raw("SELECT credits FROM users WHERE id = \(bind: movement.userID)")
                .first(decodingColumn: "credits", as: Int.self)
        else { return .unknownUser }
        if movement.credits > 0, let limit = movement.balanceLimit {
            return .balanceLimit(limit: limit, balance: balance)
        }
        return .insufficientCredits(required: -movement.credits, balance: balance)
    }

    // MARK: Audit

    /// A user whose ledger or lots do not add up.
    struct Mismatch: Codable, Sendable, Equatable {
        var userID: String
        var balance: Int
        var ledgerSum: Int
        /// Rows whose `balance_after` is not the running sum of the rows up to and including them.
        var badRowIDs: [String]
        /// Lots below zero, above their grant, or whose `remaining` is not their grant less their draws. When the
        /// lots' remaining credits do not add up to the balance but no single lot is wrong, it is empty.
        var badLotIDs: [String]

        enum CodingKeys: String, CodingKey {
            case balance
            case userID = "user_id"
            case ledgerSum = "ledger_sum"
            case badRowIDs = "bad_row_ids"
            case badLotIDs = "bad_lot_ids"
        }
    }

    /// A lot with an expiry and credits left: in the audit, one still holding credits well after it expired (the
    /// sweeper is not running, or not keeping up); for the sweeper, one about to expire.
    struct ExpiringLot: Codable, Sendable, Equatable {
        var lotID: UUID
        var userID: UUID
        var remaining: Int
        var expiresAt: Date

        enum CodingKeys: String, CodingKey {
            case remaining
            case lotID = "lot_id"
            case userID = "user_id"
            case expiresAt = "expires_at"
        }

        func encode(to encoder: any Encoder) throws {
            var json = encoder.container(keyedBy: CodingKeys.self)
            try json.encode(self.lotID.lowercased, forKey: .lotID)
            try json.encode(self.userID.lowercased, forKey: .userID)
            try json.encode(self.remaining, forKey: .remaining)
            try json.encode(self.expiresAt, forKey: .expiresAt)
        }
    }

    /// A promo code redeemed more often than it allows, or whose counter is not its number of redemptions.
    struct OverRedeemedCode: Codable, Sendable, Equatable {
        var code: String
        var maxRedemptions: Int?
        /// The counter the redeeming `UPDATE` keeps.
        var redemptions: Int
        /// The redemption rows.
        var redeemed: Int

        enum CodingKeys: String, CodingKey {
            case code, redemptions, redeemed
            case maxRedemptions = "max_redemptions"
        }
    }

    /// A referral bonus paid more than once: several positive `bonus` rows of one user naming one referred user.
    struct RepeatedReferralBonus: Codable, Sendable, Equatable {
        var referredUserID: String
        /// Who got them: the referrer (their reward) or the referred user (their welcome bonus).
        var userID: String
        var bonuses: Int

        enum CodingKeys: String, CodingKey {
            case bonuses
            case referredUserID = "referred_user_id"
            case userID = "user_id"
        }
    }

    /// A subscription period credited more than once: several `subscription` rows naming one subscription and period.
    struct RepeatedSubscriptionGrant: Codable, Sendable, Equatable {
        var subscriptionID: String
        var periodIndex: String
        var grants: Int

        enum CodingKeys: String, CodingKey {
            case grants
            case subscriptionID = "subscription_id"
            case periodIndex = "period_index"
        }
    }

    /// A payment whose ledger rows do not match what the payment says.
    struct PaymentMismatch: Codable, Sendable, Equatable {
        enum Reason: String, Codable, Sendable, CaseIterable {
            /// `succeeded`, but no ledger row is recorded as crediting it.
            case notCredited = "not_credited"
            /// Not exactly one `purchase` row for it (none for a payment that did not succeed), or the row recorded as
            /// crediting it is not that one, not its owner's, or not of its credits.
            case creditingRows = "crediting_rows"
            /// `refunded_credits` is not the credits its card-refund rows took back plus its shortfall.
            case refundedCredits = "refunded_credits"
        }

        var paymentID: String
        var userID: String
        var reason: Reason

        enum CodingKeys: String, CodingKey {
            case reason
            case paymentID = "payment_id"
            case userID = "user_id"
        }
    }

    /// What the audit found.
    struct AuditReport: Sendable {
        var usersChecked: Int
        var mismatches: [Mismatch]
        var overdueLots: [ExpiringLot]
        var overRedeemedCodes: [OverRedeemedCode]
        var paymentMismatches: [PaymentMismatch]
        var referralsRewardedTwice: [RepeatedReferralBonus]
        var subscriptionPeriodsGrantedTwice: [RepeatedSubscriptionGrant]
    }

    /// Recomputes every balance and every running sum from the ledger rows alone, every lot from its draws, every
    /// payment's crediting and refunds from its ledger rows, and lists the lots holding credits more than
    /// `overdueAfter` past their expiry, the promo codes redeemed beyond their limit and referral bonuses paid twice.
    func audit(on database: any SQLDatabase, overdueAfter: Duration) async throws -> AuditReport {
        let sums = try await database.raw(
            """
            SELECT u.id, u.credits,
                   COALESCE((SELECT SUM(t.credits) FROM credit_transactions t WHERE t.user_id = u.id), 0) AS ledger_sum,
                   COALESCE((SELECT SUM(l.remaining) FROM credit_lots l WHERE l.user_id = u.id), 0) AS lot_sum
            FROM users u
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
        let badLots = try await database.raw(
            """
            SELECT l.id, l.user_id FROM credit_lots l
            WHERE l.remaining < 0 OR l.remaining > l.granted
               OR l.remaining <> l.granted - COALESCE((SELECT SUM(d.credits) FROM credit_lot_draws d WHERE d.lot_id = l.id), 0)
            """
        ).all(decoding: BadRow.self)
        let badRowsByUser = Dictionary(grouping: badRows, by: \.userID).mapValues { $0.map(\.id.lowercased) }
        let badLotsByUser = Dictionary(grouping: badLots, by: \.userID).mapValues { $0.map(\.id.lowercased) }
        let mismatches = sums.compactMap { sum -> Mismatch? in
            let rows = badRowsByUser[sum.id] ?? [], lots = badLotsByUser[sum.id] ?? []
            let addsUp = sum.credits == sum.ledgerSum && sum.credits == sum.lotSum && sum.credits >= 0
            guard !addsUp || !rows.isEmpty || !lots.isEmpty else { return nil }
            return Mismatch(userID: sum.id.lowercased, balance: sum.credits, ledgerSum: sum.ledgerSum, badRowIDs: rows, badLotIDs: lots)
        }
        let overdue = try await database.raw(
            """
            SELECT id AS lot_id, user_id, remaining, expires_at FROM credit_lots
            WHERE NOT depleted AND expires_at < \(bind: Date().addingTimeInterval(-Double(overdueAfter.components.seconds)))
            ORDER BY expires_at
            """
        ).all(decoding: ExpiringLot.self)
        let overRedeemed = try await database.raw(
            """
            SELECT p.code, p.max_redemptions, p.redemptions, COUNT(r.user_id) AS redeemed
            FROM promo_codes p LEFT JOIN promo_redemptions r ON r.promo_code_id = p.id
            GROUP BY p.id, p.code, p.max_redemptions, p.redemptions
            HAVING COUNT(r.user_id) <> p.redemptions OR COUNT(r.user_id) > COALESCE(p.max_redemptions, COUNT(r.user_id))
            ORDER BY p.code
            """
        ).all(decoding: OverRedeemedCode.self)
        return AuditReport(
            usersChecked: sums.count, mismatches: mismatches, overdueLots: overdue, overRedeemedCodes: overRedeemed,
            paymentMismatches: try await self.paymentMismatches(on: database),
            referralsRewardedTwice: try await self.repeatedReferralBonuses(on: database),
            subscriptionPeriodsGrantedTwice: try await self.repeatedSubscriptionGrants(on: database))
    }

    /// Counted from the ledger, not from `subscription_grants` (whose primary key allows one row per period anyway).
    private func repeatedSubscriptionGrants(on database: any SQLDatabase) async throws -> [RepeatedSubscriptionGrant] {
        let subscription = self.dialect.jsonText("extra_data", "subscription_id"), period = self.dialect.jsonText("extra_data", "period_index")
        return try await database.raw(
            """
            SELECT \(subscription) AS subscription_id, \(period) AS period_index, COUNT(*) AS grants
            FROM credit_transactions
            WHERE transaction_type = \(literal: TransactionType.subscription.rawValue)
            GROUP BY \(subscription), \(period)
            HAVING COUNT(*) > 1
            ORDER BY 1, 2
            """
        ).all(decoding: RepeatedSubscriptionGrant.self)
    }

    /// Counted from the ledger, not from `referrals` (whose primary key allows one row per referred user anyway): a
    /// bonus paid outside that row would not show there.
    private func repeatedReferralBonuses(on database: any SQLDatabase) async throws -> [RepeatedReferralBonus] {
        let referred = self.dialect.jsonText("extra_data", "referred_user_id")
        return try await database.raw(
            """
            SELECT \(referred) AS referred_user_id, \(self.dialect.lowercaseText(ofUUID: "user_id")) AS user_id, COUNT(*) AS bonuses
            FROM credit_transactions
            WHERE transaction_type = \(literal: TransactionType.bonus.rawValue) AND credits > 0 AND \(referred) IS NOT NULL
            GROUP BY \(referred), user_id
            HAVING COUNT(*) > 1
            ORDER BY 1, 2
            """
        ).all(decoding: RepeatedReferralBonus.self)
    }

    /// Payments whose `purchase` row or card-refund rows do not match the payment (API.md: "a credited payment without
    /// exactly one crediting row, or refunded credits not equal to its refund rows plus shortfall").
    ///
    /// A `purchase` row belongs to the payment whose `(gateway, gateway_payment_id)` its `extra_data` names: the key of
    /// the unique index that keeps a payment from being credited twice (V007), which these counts use. Counting rows by
    /// that key, rather than trusting `credited_transaction_id`, also finds a second row or a row credited for a
    /// payment that never succeeded; `credited_transaction_id` must then name that one row, of the payment's owner and
    /// credits. A card-refund row is a `refund` row whose `extra_data` names the payment's id (job refunds name none).
    private func paymentMismatches(on database: any SQLDatabase) async throws -> [PaymentMismatch] {
        let crediting: SQLQueryString = "transaction_type IN (\(literal: TransactionType.purchase.rawValue), \(literal: TransactionType.subscription.rawValue))"
        let gateway = self.dialect.jsonText("extra_data", "gateway"), gatewayPaymentID = self.dialect.jsonText("extra_data", "gateway_payment_id")
        let paymentID = self.dialect.jsonText("extra_data", "payment_id")
        // In the subqueries an unqualified column is `credit_transactions`'; `p.` is the payment.
        let rows = try await database.raw(
            """
            SELECT p.id, p.user_id, p.status, p.credited_transaction_id, p.refunded_credits, p.refund_shortfall_credits,
                   (SELECT COUNT(*) FROM credit_transactions
                    WHERE \(crediting) AND \(gateway) = p.gateway AND \(gatewayPaymentID) = p.gateway_payment_id
                   ) AS purchase_rows,
                   (SELECT COUNT(*) FROM credit_transactions
                    WHERE id = p.credited_transaction_id AND \(crediting) AND user_id = p.user_id
                      AND credits = p.credits AND \(gateway) = p.gateway AND \(gatewayPaymentID) = p.gateway_payment_id
                   ) AS credited_rows,
                   COALESCE(r.credits, 0) AS refund_row_credits
            FROM payments p
            LEFT JOIN (
                SELECT \(paymentID) AS payment_id, SUM(credits) AS credits FROM credit_transactions
                WHERE transaction_type = \(literal: TransactionType.refund.rawValue) AND \(paymentID) IS NOT NULL
                GROUP BY \(paymentID)
            ) r ON r.payment_id = \(self.dialect.lowercaseText(ofUUID: "p.id"))
            ORDER BY p.created_at, p.id
            """
        ).all(decoding: PaymentCheck.self)
        return rows.flatMap { row -> [PaymentMismatch] in
            let succeeded = row.status == PaymentStatus.succeeded.rawValue
            var reasons: [PaymentMismatch.Reason] = []
            if succeeded && row.creditedTransactionID == nil { reasons.append(.notCredited) }
            if row.purchaseRows != (succeeded ? 1 : 0) || (row.creditedTransactionID != nil && row.creditedRows != 1) {
                reasons.append(.creditingRows)
            }
            // Card-refund rows are negative: the credits they took back.
            if row.refundedCredits != -row.refundRowCredits + row.refundShortfallCredits { reasons.append(.refundedCredits) }
            return reasons.map { PaymentMismatch(paymentID: row.id.lowercased, userID: row.userID.lowercased, reason: $0) }
        }
    }

    private struct PaymentCheck: Decodable {
        var id: UUID
        var userID: UUID
        var status: String
        var creditedTransactionID: UUID?
        var refundedCredits: Int
        var refundShortfallCredits: Int
        var purchaseRows: Int
        var creditedRows: Int
        var refundRowCredits: Int

        enum CodingKeys: String, CodingKey {
            case id, status
            case userID = "user_id"
            case creditedTransactionID = "credited_transaction_id"
            case refundedCredits = "refunded_credits"
            case refundShortfallCredits = "refund_shortfall_credits"
            case purchaseRows = "purchase_rows"
            case creditedRows = "credited_rows"
            case refundRowCredits = "refund_row_credits"
        }
    }

    private struct UserSum: Decodable {
        var id: UUID
        var credits: Int
        var ledgerSum: Int
        var lotSum: Int
        enum CodingKeys: String, CodingKey {
            case id, credits
            case ledgerSum = "ledger_sum"
            case lotSum = "lot_sum"
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
