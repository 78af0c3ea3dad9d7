import Foundation
import Hummingbird

struct PurchaseRequest: Decodable, Sendable {
    var packageID: String
    var paymentMethod: String
    var paymentToken: String

    enum CodingKeys: String, CodingKey {
        case packageID = "package_id"
        case paymentMethod = "payment_method"
        case paymentToken = "payment_token"
    }

    /// What makes two purchases "the same request" for an idempotency key.
    var fingerprint: RequestFingerprint {
        RequestFingerprint(self.packageID, self.paymentMethod, self.paymentToken)
    }
}

/// `POST /v1/credits/purchase` → 200 (the seed's shape).
struct PurchaseResponse: Encodable, Sendable {
    var transactionID: String
    var creditsAdded: Int
    var newBalance: Int
    var amountPaid: Money
    var currency: String

    enum CodingKeys: String, CodingKey {
        case transactionID = "transaction_id"
        case creditsAdded = "credits_added"
        case newBalance = "new_balance"
        case amountPaid = "amount_paid"
        case currency
    }
}

/// `POST /v1/credits/purchase` → 202 with the Stripe gateway when the customer must still act.
struct PendingPurchaseResponse: Encodable, Sendable {
    var status = "pending"
    var paymentIntentID: String
    var clientSecret: String

    enum CodingKeys: String, CodingKey {
        case status
        case paymentIntentID = "payment_intent_id"
        case clientSecret = "client_secret"
    }
}

/// `GET /v1/credits/balance`
struct BalanceResponse: ResponseEncodable, Sendable {
    var balance: Int
    var totalEarned: Int
    var totalSpent: Int
    var totalExpired: Int
    var expiring: [ExpiringCredits]

    enum CodingKeys: String, CodingKey {
        case balance, expiring
        case totalEarned = "total_earned"
        case totalSpent = "total_spent"
        case totalExpired = "total_expired"
    }

    init(_ wallet: Wallet) {
        self.balance = wallet.totals.balance
        self.totalEarned = wallet.totals.earned
        self.totalSpent = wallet.totals.spent
        self.totalExpired = wallet.totals.expired
        self.expiring = wallet.expiring
    }
}

/// `GET /v1/credits/history`
struct HistoryResponse: ResponseEncodable, Sendable {
    var transactions: [LedgerRow]
    var total: Int
    var page: Int
    var pageSize: Int
    var hasMore: Bool

    enum CodingKeys: String, CodingKey {
        case transactions, total, page
        case pageSize = "page_size"
        case hasMore = "has_more"
    }

    init(_ page: LedgerPage, query: HistoryQuery) {
        self.transactions = page.rows
        self.total = page.total
        self.page = query.page
        self.pageSize = query.pageSize
        self.hasMore = query.page * query.pageSize < page.total
    }
}

/// The query of `GET /v1/credits/history`, checked: bad values are a 422, never clamped.
struct HistoryQuery: Sendable {
    var page = 1
    var pageSize = 20
    var type: CreditLedger.TransactionType?

    init(_ query: [String: String]) throws {
        var validator = Validator()
        if let text = query["page"] {
            let value = Int(text)
            validator.check(value.map { $0 >= 1 } ?? false, "page", "Must be an integer of at least 1.")
            self.page = value ?? 1
        }
        if let text = query["page_size"] {
            let value = Int(text)
            validator.check(value.map { (1...100).contains($0) } ?? false, "page_size", "Must be an integer from 1 to 100.")
            self.pageSize = value ?? 20
        }
        if let text = query["transaction_type"], !text.isEmpty {
            self.type = CreditLedger.TransactionType(rawValue: text)
            validator.check(
                self.type != nil, "transaction_type",
                "Must be one of \(CreditLedger.TransactionType.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        try validator.validate()
        // Beyond this the offset would overflow long before any ledger is that long.
        if self.page > 1_000_000 { throw Problem.validation(field: "page", "Must be at most 1000000.") }
    }
}

extension FormatStyle where Self == Date.ISO8601FormatStyle {
    /// `2026-12-05`: a day in UTC, as ledger descriptions and notices name days (API.md).
    static var utcDay: Date.ISO8601FormatStyle { Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day() }
}
