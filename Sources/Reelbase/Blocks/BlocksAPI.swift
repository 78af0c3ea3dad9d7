/// OpenAPI part: blocks.
enum BlocksAPI: APIPart {
    static var paths: OAS.Object {
        let user = [OAS.pathParameter("user_id")]
        let state = OAS.object(["user_id": OAS.uuid, "is_blocked": OAS.boolean])
        let paths: OAS.Object = [
            "/v1/blocks": [
                "get": OAS.operation(
                    "The users the caller blocks, newest block first", tag: "Blocks", auth: .user, parameters: OAS.pageParameters,
                    responses: [200: ("A page of users", OAS.ref("BlockedUserPage"))])
            ],
            "/v1/blocks/{user_id}": [
                "post": OAS.operation(
                    "Block a user (idempotent; removes the follows both ways)", tag: "Blocks", auth: .user, parameters: user,
                    responses: [200: ("Blocked", state)]),
                "delete": OAS.operation(
                    "Unblock a user (idempotent)", tag: "Blocks", auth: .user, parameters: user, responses: [200: ("Not blocked", state)]),
            ],
        ]
        return paths.merging(BatchCheck<BlockedUsers>.paths) { $1 }
    }

    static var schemas: OAS.Object {
        [
            "BlockedUserPage": OAS.object([
                "users": OAS.array(OAS.ref("User")), "next_cursor": OAS.nullable(OAS.string), "has_more": OAS.boolean,
            ])
        ]
    }
}
