import Hummingbird
import NIOConcurrencyHelpers

/// The routes the router serves, known once the router is built: tells a `405` (the path exists, the method
/// does not) from a `404`, and lets tests compare the API with its OpenAPI document.
public final class RouteTable: Sendable {
    public struct Route: Sendable, Hashable {
        public var method: HTTPRequest.Method
        /// Path template with `{name}` parameters, e.g. `/v1/users/{user_id}`.
        public var path: String
    }

    private let storage = NIOLockedValueBox<[Route]>([])

    public init() {}

    public var routes: [Route] { self.storage.withLockedValue { $0 } }

    func load<Context>(from router: Router<Context>) {
        let routes = router.routes.map { description in
            Route(method: description.method, path: Self.template(description.path.description))
        }
        self.storage.withLockedValue { $0 = routes }
    }

    /// The methods served at a concrete path (empty if the path is unknown). Like the router, a literal segment
    /// beats a parameter: `/v1/follows/check-batch` offers only what is registered there, not `/v1/follows/{user_id}`'s.
    func allowedMethods(for path: String) -> [HTTPRequest.Method] {
        let segments = Self.segments(path)
        let matches = self.routes.compactMap { route -> (route: Route, literals: [Bool])? in
            let pattern = Self.segments(route.path)
            guard pattern.count == segments.count, zip(pattern, segments).allSatisfy({ $0.hasPrefix("{") || $0 == $1 }) else {
                return nil
            }
            return (route, pattern.map { !$0.hasPrefix("{") })
        }
        guard let best = matches.map(\.literals).max(by: { $0.lexicographicallyPrecedes($1) { !$0 && $1 } }) else { return [] }
        return Set(matches.filter { $0.literals == best }.map(\.route.method)).sorted { $0.rawValue < $1.rawValue }
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    /// Hummingbird spells parameters `:name`; OpenAPI spells them `{name}`.
    private static func template(_ path: String) -> String {
        let parts = segments(path).map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
        return "/" + parts.joined(separator: "/")
    }
}
