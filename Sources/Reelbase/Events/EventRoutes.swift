import Foundation
import HTTPTypes
import Hummingbird

/// `/v1/events`: the caller's live event stream, and the tickets that let a browser's `EventSource` open it.
struct EventRoutes {
    let streams: EventStreams
    let tickets: EventTicketStore
    let sessions: any SessionStore

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("", use: self.stream)
        group.post("tickets", use: self.issueTicket)
    }

    /// `Authorization: Bearer` (set by ``BearerAuthMiddleware``) or `?ticket=`; an access token in the URL is not read.
    @Sendable func stream(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let holder: TicketHolder
        if let userID = context.userID, let sessionID = context.sessionID {
            holder = TicketHolder(userID: userID, sessionID: sessionID)
        } else if let ticket = query.get("ticket"), !ticket.isEmpty {
            holder = try await self.redeem(ticket)
        } else {
            throw Problem.unauthorized("Send an access token in the Authorization header, or ?ticket= from POST /v1/events/tickets.")
        }
        let lastEventID = request.headers[.lastEventID] ?? query.get("last_event_id")
        return self.streams.response(
            for: EventStreams.Request(userID: holder.userID, sessionID: holder.sessionID, lastEventID: lastEventID))
    }

    /// A ticket signs in like its session's access tokens would: not once the session ended or the account is suspended.
    private func redeem(_ ticket: String) async throws -> TicketHolder {
        guard let holder = try await self.tickets.redeem(ticket) else {
            throw Problem.unauthorized("The ticket is unknown, used or expired; ask POST /v1/events/tickets for a new one.")
        }
        guard let session = try await self.sessions.state(session: holder.sessionID, userID: holder.userID), session.revokedAt == nil else {
            throw Problem.unauthorized("The session of this ticket has ended; sign in again.")
        }
        guard session.suspendedAt == nil else { throw Problem.accountSuspended(.unauthorized) }
        return holder
    }

    @Sendable func issueTicket(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TicketResponse> {
        let me = try context.requireUser()
        guard let sessionID = context.sessionID else { throw Problem.unauthorized() }
        let ticket = try await self.tickets.issue(userID: me, sessionID: sessionID)
        return EditedResponse(status: .created, response: TicketResponse(ticket: ticket, expiresIn: EventTicketStore.lifetime))
    }
}

/// `201` of `POST /v1/events/tickets`.
struct TicketResponse: ResponseEncodable, Sendable {
    var ticket: String
    var expiresIn: Int

    enum CodingKeys: String, CodingKey {
        case ticket
        case expiresIn = "expires_in"
    }
}

extension HTTPField.Name {
    /// What an `EventSource` sends when it reconnects.
    static let lastEventID = Self("Last-Event-ID")!
}
