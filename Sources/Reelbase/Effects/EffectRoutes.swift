import Foundation
import Hummingbird

/// `/v1/effects`: the effects on offer, and the caller's effect jobs.
struct EffectRoutes {
    let database: Database
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

    /// Charges and queues in one transaction. With an `Idempotency-Key` the key is claimed first and the answer
    /// stored in that same transaction; a refusal (402, 404) writes nothing and lets the key go, so the client may
    /// retry with it after topping up.
    @Sendable func createJob(_ request: Request, context: AppRequestContext) async throws -> Response {
        let userID = try context.requireUser()
        let key = try request.idempotencyKey()
        guard let effectID = context.parameters.get("effect_id"), let effect = self.catalog.effect(id: effectID) else {
            throw Problem.notFound("Effect")
        }
        let body = try await request.decodeJSON(as: CreateJobRequest.self, context: context)
        let idempotencyKey = key.map {
            IdempotencyStore.Key(
                userID: userID, scope: "effect_job", key: $0, requestHash: sha256Hex("\(effect.id)\u{1F}\(body.videoID.lowercased)"))
        }
        if let idempotencyKey {
            switch try await self.idempotency.claim(idempotencyKey) {
            case .claimed: break
            case .replay(let stored): return stored.response(replayed: true)
            case .reused: throw CreditPurchases.keyReused
            case .inProgress: throw CreditPurchases.keyInProgress
            }
        }
        do {
            let stored = try await self.database.transaction { connection in
                let accepted = try await self.jobs.enqueue(effect: effect, videoID: body.videoID, userID: userID, on: connection)
                let stored = try StoredResponse(status: 202, encoding: accepted)
                if let idempotencyKey { try await self.idempotency.complete(idempotencyKey, with: stored, on: connection) }
                return stored
            }
            return stored.response()
        } catch {
            if let idempotencyKey { try? await self.idempotency.release(idempotencyKey) }
            throw error
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
