/// OpenAPI part: `/v1/users` (profiles; the video and follower lists are in their features' parts).
enum UsersAPI: APIPart {
    static var paths: OAS.Object {
        [
            "/v1/users/me": [
                "get": OAS.operation("The caller's account", tag: "Users", auth: .user, responses: [200: ("Account", OAS.ref("CurrentUser"))]),
                "patch": OAS.operation(
                    "Update the caller's profile (null clears bio or avatar_url)", tag: "Users", auth: .user,
                    body: ["type": "object", "properties": [
                        "display_name": ["type": "string", "minLength": 1, "maxLength": 100],
                        "bio": OAS.nullable(["type": "string", "maxLength": 500]),
                        "avatar_url": OAS.nullable(OAS.uri),
                    ]],
                    responses: [200: ("Profile", OAS.ref("User"))]),
            ],
            "/v1/users/{user_id}": [
                "get": OAS.operation(
                    "A public profile", tag: "Users", auth: .optionalUser, parameters: [OAS.pathParameter("user_id")],
                    responses: [200: ("Profile", OAS.ref("User"))])
            ],
        ]
    }

    static var userProperties: [String: OAS.Object] {
        [
            "id": OAS.uuid, "username": OAS.string, "display_name": OAS.string, "bio": OAS.nullable(OAS.string),
            "avatar_url": OAS.nullable(OAS.string), "follower_count": OAS.integer, "following_count": OAS.integer,
            "video_count": OAS.integer, "created_at": OAS.dateTime,
        ]
    }

    static var role: OAS.Object { OAS.string(UserRole.allCases.map(\.rawValue)) }

    static var schemas: OAS.Object {
        [
            "User": OAS.object(userProperties),
            "CurrentUser": OAS.object(userProperties.merging([
                "email": OAS.string, "credits": OAS.integer, "role": role,
                "referral_code": ["type": "string", "pattern": "^[A-Z2-9]{8}$"],
            ]) { $1 }),
            "UserWithRole": OAS.object(userProperties.merging(["role": role]) { $1 }),
        ]
    }
}
