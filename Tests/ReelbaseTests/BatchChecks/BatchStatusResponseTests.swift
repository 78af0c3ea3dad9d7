import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Reelbase

/// The hand-written batch answer and id spelling must stay byte for byte what Foundation would write.
@Suite("Batch answers written by hand")
struct BatchStatusResponseTests {
    @Test func lowercasedMatchesFoundation() {
        for _ in 0..<1000 {
            let id = UUID()
            #expect(id.lowercased == id.uuidString.lowercased())
        }
        #expect(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).lowercased == "00000000-0000-0000-0000-000000000000")
    }

    /// Ids that differ only in their last byte, only in the high half of their first byte, or across the two
    /// integers the answer sorts them by, among random ones.
    static let neighbours: [UUID] = [
        "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-ffff-ffffffffffff",
        "00000000-0000-0001-0000-000000000000", "0fffffff-ffff-ffff-ffff-ffffffffffff", "f0000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff", "a0000000-0000-0000-0000-000000000000", "9fffffff-ffff-ffff-ffff-ffffffffffff",
    ].compactMap { UUID(uuidString: $0) }

    @Test(arguments: [1, 2, 37, 100])
    func answerMatchesTheJSONEncoder(count: Int) async throws {
        let ids = (Self.neighbours + (0..<count).map { _ in UUID() }).shuffled().prefix(count).map { $0 }
        let matching = Set(ids.filter { _ in Bool.random() })
        let expected = try JSONCoding.encoder.encode(
            ["liked_videos": Dictionary(uniqueKeysWithValues: ids.map { ($0.lowercased, matching.contains($0)) })])

        let router = Router(context: AppRequestContext.self)
        router.get("answer") { _, _ in BatchStatusResponse(field: "liked_videos", ids: ids, matching: matching) }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/answer", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(String(buffer: response.body) == String(decoding: expected, as: UTF8.self))
            }
        }
    }
}
