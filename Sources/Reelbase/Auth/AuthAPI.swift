/// OpenAPI part: `/v1/auth`.
enum AuthAPI: APIPart {
    static var paths: OAS.Object {
        let refresh = OAS.object(["refresh_token": OAS.string])
        let auth = OAS.ref("AuthResponse")
        return [
            "/v1/auth/register": [
                "post": OAS.operation(
                    "Create an account", tag: "Auth", auth: .none,
                    body: OAS.object(
                        [
                            "email": OAS.string, "password": ["type": "string", "minLength": 8],
                            "username": ["type": "string", "pattern": "^[a-z0-9_]{3,30}$"], "display_name": OAS.string,
                            "referral_code": OAS.string,
                        ], required: ["email", "password", "username"]),
                    responses: [201: ("Registered and signed in", auth)])
            ],
            "/v1/auth/login": [
                "post": OAS.operation(
                    "Sign in", tag: "Auth", auth: .none,
                    body: OAS.object(["email": OAS.string, "password": OAS.string]), responses: [200: ("Signed in", auth)])
            ],
            "/v1/auth/refresh": [
                "post": OAS.operation(
                    "Rotate a refresh token; reusing a spent one revokes its family", tag: "Auth", auth: .none, body: refresh,
                    responses: [200: ("New tokens", auth)])
            ],
            "/v1/auth/logout": [
                "post": OAS.operation("Revoke a refresh token's family", tag: "Auth", auth: .none, body: refresh, responses: [204: ("Signed out", nil)])
            ],
        ]
    }

    static var schemas: OAS.Object {
        [
            "AuthResponse": OAS.object([
                "user": OAS.ref("User"), "access_token": OAS.string, "refresh_token": OAS.string,
                "token_type": OAS.string(["bearer"]), "expires_in": OAS.integer,
            ])
        ]
    }
}
