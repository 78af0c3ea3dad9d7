import HTTPTypes
import Hummingbird
import Logging
import ReelbaseWeb

/// Serves the web client at `/` (API.md, Operations) from its folder, with the headers a browser needs to run it
/// safely: ETags with `Cache-Control: no-cache` (the file names carry no version, so a cached copy is revalidated,
/// a `304` when unchanged) and a Content-Security-Policy that lets the page run only its own scripts and styles and
/// talk only to this server (and Stripe, with the Stripe gateway). Paths under `/v1` never look for a file: an
/// API `404` stays the API's.
struct WebAppMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let files: FileMiddleware<AppRequestContext, LocalFileSystem>?
    let contentSecurityPolicy: String

    init(configuration: AppConfiguration, logger: Logger) {
        let directory = configuration.webAppDirectory ?? WebApp.bundledDirectory
        if directory == nil {
            logger.warning("the web app's files were not shipped beside the executable: / answers 404 (set WEB_APP_DIRECTORY)")
        }
        // Text is UTF-8 (Korean titles in the page's own strings), said in the header rather than left to sniffing.
        let utf8 = ("charset", "utf-8")
        self.files = directory.map {
            FileMiddleware($0, cacheControl: CacheControl([(MediaType(type: .any), [.noCache])]), searchForIndexHtml: true, logger: logger)
                .withAdditionalMediaTypes(forFileExtensions: [
                    "html": MediaType(type: .text, subType: "html", parameter: utf8),
                    "css": MediaType(type: .text, subType: "css", parameter: utf8),
                    "js": MediaType(type: .text, subType: "javascript", parameter: utf8),
                ])
        }
        self.contentSecurityPolicy = Self.contentSecurityPolicy(
            stripe: configuration.paymentGateway == .stripe, allowsHTTPMedia: configuration.environment != .production)
    }

    /// Media URLs point at other hosts (API.md's URL rule), hence `https:` (and `http:` outside production) for
    /// images and video; everything else is this origin's, and Stripe.js's documented domains in Stripe mode.
    static func contentSecurityPolicy(stripe: Bool, allowsHTTPMedia: Bool) -> String {
        let media = allowsHTTPMedia ? "'self' https: http:" : "'self' https:"
        return [
            "default-src 'self'",
            stripe ? "script-src 'self' https://js.stripe.com" : "script-src 'self'",
            "style-src 'self'",
            stripe ? "connect-src 'self' https://api.stripe.com" : "connect-src 'self'",
            stripe ? "frame-src https://js.stripe.com https://hooks.stripe.com" : "frame-src 'none'",
            "img-src \(media)",
            "media-src \(media)",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ].joined(separator: "; ")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard let files, path != "/v1", !path.hasPrefix("/v1/") else {
            return try await next(request, context)
        }
        var response = try await files.handle(request, context: context, next: next)
        // A page with its own policy (`/docs`) keeps it.
        if response.headers[.contentSecurityPolicy] == nil {
            response.headers[.contentSecurityPolicy] = self.contentSecurityPolicy
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "same-origin"
        return response
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
}
