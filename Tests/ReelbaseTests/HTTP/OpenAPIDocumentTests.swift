import Foundation
import Testing

@testable import Reelbase

@Suite("OpenAPI: the document is true to the router")
struct OpenAPIDocumentTests {
    /// Every route the router serves is in the document, and every operation in the document is served.
    @Test func documentedOperationsAreExactlyTheRoutes() async throws {
        try await TestApp.withFreshDatabase(.sqlite) { url in
            let configuration = try TestApp.configuration(databaseURL: url, settings: [:])
            let table = RouteTable()
            try await DatabaseConnector.withDatabase(configuration.databaseURL, logger: TestApp.logger) { database in
                let dependencies = try await makeDependencies(configuration: configuration, database: database, logger: TestApp.logger)
                _ = buildRouter(dependencies, routes: table, logger: TestApp.logger)
            }
            let served = Set(table.routes.map { "\($0.method.rawValue) \($0.path)" })
            #expect(served.count >= 40)

            let paths = try #require(APIDocument.document()["paths"] as? [String: [String: Any]])
            let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
            #expect(served.subtracting(documented).sorted() == [], "served but not documented")
            #expect(documented.subtracting(served).sorted() == [], "documented but not served")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func documentAndDocsPageAreServed(_ database: TestDatabase) async throws {
        try await TestApp.run(database) { client in
            let document = try await client.get("/openapi.json")
            #expect(document.status == .ok)
            #expect(try document.decode(API.OpenAPIDocument.self).openapi == "3.1.0")
            let docs = try await client.get("/docs")
            #expect(docs.status == .ok && docs.text.contains("swagger-ui"))
        }
    }
}
