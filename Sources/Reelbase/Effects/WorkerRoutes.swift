import Crypto
import Foundation
import Hummingbird

/// `/v1/internal/effect-jobs`: what GPU workers call, authenticated by `SERVICE_KEY` alone.
struct WorkerRoutes {
    let jobs: EffectJobStore

    struct CompleteRequest: Decodable {
        var outputURL: String
        enum CodingKeys: String, CodingKey { case outputURL = "output_url" }
    }

    struct FailRequest: Decodable {
        var error: String
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("claim", use: self.claim)
        group.post(":job_id/complete", use: self.complete)
        group.post(":job_id/fail", use: self.fail)
    }

    @Sendable func claim(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let job = try await self.jobs.claim() else { return Response(status: .noContent) }
        context.logger.info("effect job claimed", metadata: ["job_id": .string(job.id.lowercased)])
        return try JobView(job, forWorker: true).response(from: request, context: context)
    }

    @Sendable func complete(_ request: Request, context: AppRequestContext) async throws -> JobView {
        let jobID = try context.parameters.uuid("job_id", resource: "Job")
        let body = try await request.decodeJSON(as: CompleteRequest.self, context: context)
        var validator = Validator()
        validator.checkLength(body.outputURL, 1...2048, "output_url", "Must be 1 to 2048 characters.")
        try validator.validate()
        return JobView(try await self.jobs.complete(id: jobID, outputURL: body.outputURL), forWorker: true)
    }

    @Sendable func fail(_ request: Request, context: AppRequestContext) async throws -> JobView {
        let jobID = try context.parameters.uuid("job_id", resource: "Job")
        let body = try await request.decodeJSON(as: FailRequest.self, context: context)
        let job = try await self.jobs.fail(id: jobID, error: String(body.error.prefix(4000)))
        context.logger.info("effect job failed and refunded", metadata: ["job_id": .string(job.id.lowercased)])
        return JobView(job, forWorker: true)
    }
}

extension JobReportRefusal: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .notFound: .notFound("Job")
        case .alreadyFinished: Problem(.conflict, code: "job_already_finished", detail: "This job has already ended; nothing was changed.")
        case .notRunning: Problem(.conflict, code: "job_not_running", detail: "This job has not been claimed by a worker yet.")
        }
    }
}

/// Lets a request through only with `Authorization: Bearer <SERVICE_KEY>`. Without a configured key, nothing passes.
struct ServiceKeyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let serviceKey: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let serviceKey, let header = request.headers[.authorization],
            let presented = BearerAuthMiddleware.bearerToken(header),
            // Compare digests, so the comparison takes the same time wherever the strings differ.
            Data(SHA256.hash(data: Data(presented.utf8))) == Data(SHA256.hash(data: Data(serviceKey.utf8)))
        else {
            throw Problem.unauthorized("A valid service key is required.")
        }
        return try await next(request, context)
    }
}
