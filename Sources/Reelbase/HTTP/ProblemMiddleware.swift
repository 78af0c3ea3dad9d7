import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The outermost middleware: gives every request an id, logs it, refuses oversized bodies, and turns every
/// error thrown below it into a problem+json response. An error it does not know is logged with the request id
/// and answered with a generic `500` that reveals nothing about the server.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = Self.requestID(from: request.headers)
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        let started = ContinuousClock.now

        var response: Response
        do {
            if let length = request.headers[.contentLength].flatMap(Int.init), length > context.maxUploadSize {
                throw Problem(
                    .contentTooLarge,
                    code: "payload_too_large",
                    detail: "The request body is larger than \(context.maxUploadSize) bytes."
                )
            }
            response = try await next(request, context)
        } catch {
            response = self.problem(for: error, request: request, context: context).response()
        }
        response.headers[.xRequestID] = requestID
        let elapsed = ContinuousClock.now - started
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue),
                "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .string(String(format: "%.2f", elapsed / .milliseconds(1))),
            ]
        )
        return response
    }

    private func problem(for error: any Error, request: Request, context: Context) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as any ProblemConvertible:
            return error.problem
        case let error as HTTPError:
            return self.problem(for: error, request: request)
        case let error as DecodingError:
            return Request.problem(for: error)
        default:
            if DatabaseFailure(error) == .unavailable {
                let reason = (error as? DatabaseUnavailable)?.reason ?? .connectionLost
                Observability.databaseUnavailable(reason)
                context.logger.warning(
                    "database unavailable", metadata: ["reason": .string(reason.rawValue), "error": .string(String(reflecting: error))])
                return .databaseUnavailable
            }
            context.logger.error("unexpected error", metadata: ["error": .string(String(reflecting: error))])
            return .internalError
        }
    }

    /// Errors Hummingbird itself raises: unknown routes, bodies over the limit, and the like.
    private func problem(for error: HTTPError, request: Request) -> Problem {
        switch error.status {
        case .notFound:
            let allowed = self.routes.allowedMethods(for: request.uri.path)
            if !allowed.isEmpty {
                let allow = allowed.map(\.rawValue).joined(separator: ", ")
                return Problem(
                    .methodNotAllowed,
                    code: "method_not_allowed",
                    detail: "\(request.method.rawValue) is not allowed here; use \(allow).",
                    headers: [.allow: allow]
                )
            }
            return Problem(.notFound, code: "not_found", detail: "No resource at \(request.uri.path).")
        case .contentTooLarge:
            return Problem(.contentTooLarge, code: "payload_too_large", detail: "The request body is larger than 1 MiB.")
        default:
            let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            return Problem(error.status, code: code, detail: error.body ?? error.status.reasonPhrase + ".")
        }
    }

    /// The client's `X-Request-Id` if it is a sane token, else a new one.
    static func requestID(from headers: HTTPFields) -> String {
        if let sent = headers[.xRequestID], (1...128).contains(sent.lengthInCodePoints),
            sent.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) })
        {
            return sent
        }
        return UUID().lowercased
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-Id")!
}
