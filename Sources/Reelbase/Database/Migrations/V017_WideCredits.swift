import SQLKit

extension Migration {
    /// Payments, renewals and rewards are credited whatever the balance (API.md), so a balance may pass 2^31 − 1: the
    /// ledger's running balance becomes 64-bit like `users.credits` already is. One row's, one lot's and one draw's
    /// credits stay 32-bit: a single movement is a package, a grant (at most 1,000,000) or a reward. SQLite's INTEGER
    /// is 64-bit anyway. On PostgreSQL the ALTER rewrites the ledger under an exclusive lock: minutes on a large ledger,
    /// once.
    static let wideCredits = Migration(version: 17, name: "64-bit running balances in the ledger") { d in
        d == .postgres ? ["ALTER TABLE credit_transactions ALTER COLUMN balance_after TYPE BIGINT"] : []
    }
}
