import Hummingbird

/// `POST`/`DELETE /v1/blocks/{user_id}`.
struct BlockStatusResponse: ResponseEncodable, Sendable {
    var userID: String
    var isBlocked: Bool

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case isBlocked = "is_blocked"
    }
}
