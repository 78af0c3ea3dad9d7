import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Reelbase

extension TestApp {
    /// Like ``run(_:settings:_:)``, with a second handle on the same database for what tests check or do
    /// beneath the API (ledger rows, direct `CreditLedger` movements).
    static func runWithDatabase(
        _ database: TestDatabase,
        settings: [String: String] = [:],
        _ body: @escaping @Sendable (TestClient, Reelbase.Database) async throws -> Void
    ) async throws {
        try await withFreshDatabase(database) { url in
            let configuration = try configuration(databaseURL: url, settings: settings)
            let app = try await buildApplication(configuration: configuration, logger: logger)
            try await app.test(.router) { client in
                try await DatabaseConnector.withDatabase(try DatabaseURL(url), logger: logger) { db in
                    try await body(TestClient(client: client, databaseURL: url), db)
                }
            }
        }
    }
}

/// Helpers over the database a test shares with the app.
extension Reelbase.Database {
    func count(_ table: String, where condition: String = "1 = 1") async throws -> Int {
        try await self.sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table) WHERE \(unsafeRaw: condition)").first()?
            .decode(column: "n", as: Int.self) ?? -1
    }

    /// The app's payment store over this handle, as another instance of the app would hold it (its reconciler, its
    /// housekeeping).
    var payments: PaymentStore { PaymentStore(database: self, ledger: CreditLedger(dialect: self.dialect), catalog: .seed) }

    func paymentStatus(_ intentID: String) async throws -> String? {
        try await self.sql.raw("SELECT status FROM payments WHERE gateway = 'stripe' AND gateway_payment_id = \(bind: intentID)").first()?
            .decode(column: "status", as: String.self)
    }

    /// `extra_data` of the user's ledger rows of one type, oldest first.
    func extraData(type: String) async throws -> [[String: String]] {
        try await self.sql.raw(
            "SELECT extra_data FROM credit_transactions WHERE transaction_type = \(bind: type) ORDER BY user_id, sequence"
        ).all().map { row in
            let text = try row.decode(column: "extra_data", as: String.self)
            return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        }
    }
}
