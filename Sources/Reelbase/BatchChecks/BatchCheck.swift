import Foundation
import Hummingbird

/// What one batch check asks about and answers (API.md "Batch status"): the whole declaration of a check, apart from
/// its one statement. Likes, follows, blocks and bookmarks each declare one, as a type whose ``spec`` names it.
protocol BatchCheckKind: Sendable {
    static var spec: BatchCheckSpec { get }
}

/// The names of one batch check.
struct BatchCheckSpec: Sendable {
    /// The documented path, `/v1/likes/check-batch`; the route is `check-batch` in its feature's group.
    var path: String
    /// The request's list of ids, `video_ids`.
    var ids: String
    /// The answer's map from id to `true`/`false`, `liked_videos`.
    var answer: String
    /// The OpenAPI tag and summary.
    var tag: String
    var summary: String
}

/// One batch check (or batch update, `read-batch`, whose lookup writes): the shared rules (1 to 100 ids as sent, each a UUID; every distinct id answered once, unknown ones
/// `false`) around the feature's lookup, which must be one SQL statement whatever the number of ids.
struct BatchCheck<Kind: BatchCheckKind>: Sendable {
    /// Which of the distinct `ids` are `true` for the signed-in `caller`.
    let lookup: @Sendable (_ ids: [UUID], _ caller: UUID) async throws -> Set<UUID>

    init(_ lookup: @escaping @Sendable (_ ids: [UUID], _ caller: UUID) async throws -> Set<UUID>) {
        self.lookup = lookup
    }

    /// Serves `POST` at the last segment of the documented path (`check-batch`, `read-batch`) in the feature's group.
    /// A fixed segment wins over a parameter in Hummingbird's trie, so it is never taken for an id.
    func addRoute(to group: RouterGroup<AppRequestContext>) {
        group.post(RouterPath(String(Kind.spec.path.split(separator: "/").last ?? "check-batch")), use: self.answer)
    }

    @Sendable func answer(_ request: Request, context: AppRequestContext) async throws -> BatchStatusResponse {
        let caller = try context.requireUser()
        let body = try await request.decodeJSON(as: BatchCheckRequest<Kind>.self, context: context)
        let ids = try batchIDs(body.ids, field: Kind.spec.ids)
        return BatchStatusResponse(field: Kind.spec.answer, ids: ids, matching: try await self.lookup(ids, caller))
    }

    /// The check's part of the OpenAPI document.
    static var paths: OAS.Object {
        let ids = ["type": "array", "items": OAS.string, "minItems": 1, "maxItems": 100] as OAS.Object
        let spec = Kind.spec
        return [
            spec.path: [
                "post": OAS.operation(
                    spec.summary, tag: spec.tag, auth: .user, body: OAS.object([spec.ids: ids]),
                    responses: [200: ("State per id", OAS.object([spec.answer: OAS.map(OAS.boolean)]))])
            ]
        ]
    }
}

/// The body of a batch check, `{"<ids>": ["<uuid>", …]}`, read as sent so that ``batchIDs(_:field:)`` can name
/// every bad element.
struct BatchCheckRequest<Kind: BatchCheckKind>: Decodable {
    var ids: [String]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        self.ids = try decoder.container(keyedBy: Key.self).decode([String].self, forKey: Key(stringValue: Kind.spec.ids))
    }
}

/// The ids of a batch check, as the seed fixes them: 1 to 100 strings as sent (duplicates count), each a UUID
/// in any case. Every string that is not a UUID is named (`video_ids[3]`). Returns the distinct ids.
func batchIDs(_ strings: [String], field: String) throws -> [UUID] {
    var validator = Validator()
    validator.check((1...100).contains(strings.count), field, "Must hold 1 to 100 ids.")
    var ids: [UUID] = []
    ids.reserveCapacity(strings.count)
    var seen = Set<UUID>(minimumCapacity: strings.count)
    for (index, string) in strings.enumerated() {
        guard let id = UUID(text: string) else {
            validator.check(false, "\(field)[\(index)]", "Must be a UUID, not \(FieldError.quoting(string)).")
            continue
        }
        if seen.insert(id).inserted { ids.append(id) }
    }
    try validator.validate()
    return ids
}

/// The answer of a batch check, `{"liked_videos": {"<uuid>": bool, …}}` or `{"following_users": …}`, keyed by the
/// ids in lowercase: byte for byte what `JSONCoding.encoder` writes for it (keys sorted by their UTF-8 bytes).
///
/// Written by hand because Foundation's `JSONEncoder` spent about a sixth of a check-batch request's CPU time on
/// these 100 keys (profiled under load); the keys are UUIDs in lowercase, so nothing in them needs escaping. Their
/// text sorts as their bytes do (hex digits in ASCII order, hyphens at the same places), so the ids are sorted as two
/// integers each rather than as strings.
struct BatchStatusResponse: ResponseGenerator, Sendable {
    let field: String
    let ids: [UUID]
    let matching: Set<UUID>

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let sorted = self.ids.sorted { Self.order($0) < Self.order($1) }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(self.field.utf8.count + 8 + sorted.count * 45)
        buffer.writeString("{\"\(self.field)\":{")
        for (index, id) in sorted.enumerated() {
            buffer.writeStaticString(index == 0 ? "\"" : ",\"")
            buffer.writeLowercased(id)
            buffer.writeStaticString(self.matching.contains(id) ? "\":true" : "\":false")
        }
        buffer.writeStaticString("}}")
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: buffer))
    }

    /// The id's 16 bytes as two big-endian integers: compared as a pair, they order ids as their text does.
    private static func order(_ id: UUID) -> (UInt64, UInt64) {
        withUnsafeBytes(of: id.uuid) { bytes in
            (UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)), UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }
}
