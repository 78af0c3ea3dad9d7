import Hummingbird

/// Reads `Authorization: Bearer <access token>`. A request without the header goes on anonymously; one with a
/// token that is malformed, forged or expired is refused with `401`, also on routes where signing in is optional.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tokens: TokenIssuer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            return try await next(request, context)
        }
        guard let token = Self.bearerToken(header), let userID = await self.tokens.verifyAccessToken(token) else {
            throw Problem.unauthorized("The access token is malformed, expired or revoked.")
        }
        var context = context
        context.userID = userID
        context.logger[metadataKey: "user_id"] = .string(userID.lowercased)
        return try await next(request, context)
    }

    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
