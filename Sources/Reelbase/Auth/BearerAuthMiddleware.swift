import Foundation
import Hummingbird

/// Reads `Authorization: Bearer <access token>`. A request without the header goes on anonymously; one with a
/// token that is malformed, forged, expired, of an ended session or of a suspended account is refused with `401`,
/// also on routes where signing in is optional.
///
/// A signed token alone is not enough: logout and reuse detection end its session, suspension its account, and a
/// role may have changed since it was issued. One primary-key lookup per request answers all three
/// (``SessionStore``), and the role it read goes into the context, so role checks cost nothing more.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tokens: TokenIssuer
    let sessions: any SessionStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            return try await next(request, context)
        }
        guard let token = Self.bearerToken(header), let bearer = await self.tokens.verifyAccessToken(token) else {
            throw Problem.unauthorized("The access token is malformed, expired or revoked.")
        }
        guard let session = try await self.sessions.state(session: bearer.sessionID, userID: bearer.userID), session.revokedAt == nil
        else {
            throw Problem.unauthorized("The session of this access token has ended; sign in again.")
        }
        guard session.suspendedAt == nil else {
            throw Problem.accountSuspended(.unauthorized)
        }
        var context = context
        context.userID = bearer.userID
        context.sessionID = bearer.sessionID
        context.role = session.role
        context.logger[metadataKey: "user_id"] = .string(bearer.userID.lowercased)
        return try await next(request, context)
    }

    /// The token of `Bearer <token>`, the scheme in any case, the token without surrounding whitespace.
    ///
    /// Compared and trimmed without Foundation's `lowercased()` and `trimmingCharacters(in:)` unless there is
    /// whitespace to trim: they were 2 % of a check-batch request's CPU time, on every authenticated request.
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].utf8.elementsEqual("bearer".utf8, by: { $0 | 0x20 == $1 }) else { return nil }
        let token = parts[1]
        let whitespace = CharacterSet.whitespaces
        guard let first = token.unicodeScalars.first, let last = token.unicodeScalars.last,
            whitespace.contains(first) || whitespace.contains(last)
        else {
            return token.isEmpty ? nil : String(token)
        }
        let trimmed = token.trimmingCharacters(in: whitespace)
        return trimmed.isEmpty ? nil : trimmed
    }
}

extension Problem {
    /// A suspended account: `401` (with `WWW-Authenticate`) for its access tokens, `403` for login and refresh.
    static func accountSuspended(_ status: HTTPResponse.Status) -> Problem {
        Problem(
            status, code: "account_suspended", detail: "This account is suspended.",
            headers: status == .unauthorized ? [.wwwAuthenticate: "Bearer"] : [:])
    }
}
