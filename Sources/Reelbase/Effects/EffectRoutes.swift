import Foundation
import Hummingbird

/// `/v1/effects`: the effects on offer, and the caller's effect jobs.
struct EffectRoutes {
    let catalog: EffectCatalog
    let jobs: EffectJobStore
    let idempotency: IdempotencyStore
    let cursors: FeedCursor.Codec

    struct CreateJobRequest: Decodable {
        var videoID: UUID
        enum CodingKeys: String, CodingKey { case videoID = "video_id" }
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get(use: self.list)
        group.get("jobs", use: self.jobList)
        group.get("jobs/:job_id", use: self.job)
        group.post(":effect_id/jobs", use: self.createJob)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> EffectList {
        EffectList(effects: self.catalog.effects)
    }

    /// Charges and queues in one transaction, which also keeps the answer for its `Idempotency-Key`. A refusal
    /// (402, 404) writes nothing and lets the key go, so the client may retry with it after topping up.
    @Sendable func createJob(_ request: Request, context: AppRequestContext) async throws -> Response {
        let userID = try context.requireUser()
        let key = try request.idempotencyKey()
        guard let effectID = context.parameters.get("effect_id"), let effect = self.catalog.effect(id: effectID) else {
            throw Problem.notFound("Effect")
        }
        let body = try await request.decodeJSON(as: CreateJobRequest.self, context: context)
        do {
            let answer = try await self.idempotency.perform(
                key.map {
                    IdempotentRequest(
                        userID: userID, scope: .effectJob, key: $0, fingerprint: RequestFingerprint(effect.id, body.videoID.lowercased))
                },
                commit: { connection in
                    let accepted = try await self.jobs.enqueue(effect: effect, videoID: body.videoID, userID: userID, on: connection)
                    return try StoredResponse(status: .accepted, encoding: JobAcceptedResponse(accepted))
                }
            )
            return answer.response
        } catch LedgerError.insufficientCredits(let required, let balance) {
            // The refusal rolled back the expiry of overdue lots that the charge ran first; it still happened (API.md),
            // and the balance the 402 names is the one after it.
            try await self.jobs.expireOverdueLots(of: userID)
            throw LedgerError.insufficientCredits(required: required, balance: balance)
        }
    }

    @Sendable func jobList(_ request: Request, context: AppRequestContext) async throws -> CursorPageResponse<JobView> {
        let userID = try context.requireUser()
        // The list name binds a cursor to its owner: another user's cursor does not decode here.
        let list = "effect_jobs:\(userID.lowercased)"
        let page = try await self.jobs.list(userID: userID, page: try PageRequest(request, list: list, cursors: self.cursors))
        return CursorPageResponse(
            "jobs", items: page.items.map { JobView($0) }, nextCursor: page.next.map { self.cursors.encode($0, list: list) })
    }

    @Sendable func job(_ request: Request, context: AppRequestContext) async throws -> JobView {
        let userID = try context.requireUser()
        let jobID = try context.parameters.uuid("job_id", resource: "Job")
        // Someone else's job is answered exactly like a missing one.
        guard let job = try await self.jobs.find(id: jobID), job.userID == userID else { throw Problem.notFound("Job") }
        return JobView(job)
    }
}

extension EffectJobError: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .videoNotFound: .notFound("Video")
        }
    }
}
