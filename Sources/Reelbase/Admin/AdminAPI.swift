/// OpenAPI part: `/v1/admin` role management (the credit grants and audit are in ``CreditsAPI``).
enum AdminAPI: APIPart {
    static var paths: OAS.Object {
        [
            "/v1/admin/users/{user_id}/role": [
                "put": OAS.operation(
                    "Give a user a role (admins); the last unsuspended admin cannot be demoted (409 last_admin)", tag: "Admin",
                    auth: .user, parameters: [OAS.pathParameter("user_id")],
                    body: OAS.object(["role": UsersAPI.role]),
                    responses: [200: ("The user with their role", OAS.ref("UserWithRole"))])
            ]
        ]
    }

    static var schemas: OAS.Object { [:] }
}
