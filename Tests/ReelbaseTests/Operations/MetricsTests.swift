import Foundation
import Testing

@testable import Reelbase

@Suite("Operations: Prometheus metrics")
struct MetricsTests {
    @Test(arguments: TestDatabase.allCases)
    func metricsArePerRouteTemplateAndCoverTheLedger(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let user = try await client.register()
            _ = try await client.get("/v1/users/\(user.id)")
            _ = try await client.purchase(user, package: "starter_100")
            let response = try await client.get("/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = response.text
            // The route template, never the raw path with its id.
            #expect(text.contains(#"http_route="/v1/users/{user_id}""#))
            #expect(!text.contains(user.id))
            #expect(text.contains("hb_requests"))
            #expect(text.contains("http_server_active_requests"))
            #expect(text.contains(#"reelbase_ledger_rows_total{type="purchase"}"#))
            #expect(text.contains(#"reelbase_effect_jobs{state="queued"}"#))
            #expect(text.contains("reelbase_db_connections_in_use"))
        }
    }
}
