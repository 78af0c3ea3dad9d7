import Hummingbird

/// A domain error with one HTTP answer. Stores throw these and know nothing of HTTP; each error type's answer is
/// declared once, beside the routes that meet it (`extension LikeStoreError: ProblemConvertible`).
///
/// Shared by Auth, Users, Videos and Social; its home is `HTTP/`, where ``ProblemMiddleware`` could map it directly
/// and ``DomainErrorMiddleware`` would go.
protocol ProblemConvertible: Error {
    var problem: Problem { get }
}

/// Rethrows a ``ProblemConvertible`` error from the routes below it as its problem, which ``ProblemMiddleware``
/// writes; every other error passes through untouched.
struct DomainErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any ProblemConvertible {
            throw error.problem
        }
    }
}

extension RouterGroup<AppRequestContext> {
    /// A group at the same path whose routes answer domain errors with their problems. A new group, because a
    /// group's middleware applies to every route added to it afterwards, and the caller's group is shared.
    func answeringDomainErrors() -> RouterGroup<AppRequestContext> {
        self.group().add(middleware: DomainErrorMiddleware())
    }
}
