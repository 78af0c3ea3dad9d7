/// OpenAPI part: effects, effect jobs, and the workers' internal endpoints.
enum EffectsAPI: APIPart {
    static var paths: OAS.Object {
        let job = OAS.ref("EffectJob")
        let workerJob = OAS.ref("WorkerJob")
        let jobParameter = [OAS.pathParameter("job_id")]
        return [
            "/v1/effects": [
                "get": OAS.operation(
                    "AI effects and their prices", tag: "Effects", auth: .none,
                    responses: [
                        200: ("Effects", OAS.object(["effects": OAS.array(OAS.object(["id": OAS.string, "name": OAS.string, "credits": OAS.integer]))]))
                    ])
            ],
            "/v1/effects/{effect_id}/jobs": [
                "post": OAS.operation(
                    "Charge the effect and queue a job (402 insufficient_credits writes no usage row; overdue lots it found still expire)", tag: "Effects", auth: .user,
                    parameters: [OAS.pathParameter("effect_id")], body: OAS.object(["video_id": OAS.uuid]), idempotent: true,
                    responses: [
                        202: (
                            "Accepted",
                            OAS.object([
                                "job_id": OAS.uuid, "status": OAS.string(["queued"]), "credits_charged": OAS.integer, "new_balance": OAS.integer,
                            ])
                        )
                    ])
            ],
            "/v1/effects/jobs": [
                "get": OAS.operation(
                    "The caller's jobs, newest first", tag: "Effects", auth: .user, parameters: OAS.pageParameters,
                    responses: [
                        200: ("A page of jobs", OAS.object(["jobs": OAS.array(job), "next_cursor": OAS.nullable(OAS.string), "has_more": OAS.boolean]))
                    ])
            ],
            "/v1/effects/jobs/{job_id}": [
                "get": OAS.operation("One of the caller's jobs", tag: "Effects", auth: .user, parameters: jobParameter, responses: [200: ("The job", job)])
            ],
            "/v1/internal/effect-jobs/claim": [
                "post": OAS.operation(
                    "Take the oldest queued job (workers)", tag: "Workers", auth: .service,
                    responses: [200: ("Now running, yours alone", workerJob), 204: ("Nothing queued", nil)])
            ],
            "/v1/internal/effect-jobs/{job_id}/complete": [
                "post": OAS.operation(
                    "Report success (workers)", tag: "Workers", auth: .service, parameters: jobParameter,
                    body: OAS.object(["output_url": OAS.string]), responses: [200: ("Succeeded", workerJob)])
            ],
            "/v1/internal/effect-jobs/{job_id}/fail": [
                "post": OAS.operation(
                    "Report failure and refund the charge once (workers)", tag: "Workers", auth: .service, parameters: jobParameter,
                    body: OAS.object(["error": OAS.string]), responses: [200: ("Failed and refunded", workerJob)])
            ],
        ]
    }

    static var jobProperties: [String: OAS.Object] {
        [
            "job_id": OAS.uuid, "effect_id": OAS.string, "video_id": OAS.uuid,
            "status": OAS.string(["queued", "running", "succeeded", "failed"]), "credits_charged": OAS.integer,
            "output_url": OAS.string, "error": OAS.string, "created_at": OAS.dateTime, "updated_at": OAS.dateTime,
        ]
    }

    static var schemas: OAS.Object {
        let required = ["job_id", "effect_id", "video_id", "status", "credits_charged", "created_at", "updated_at"]
        return [
            "EffectJob": OAS.object(jobProperties, required: required),
            "WorkerJob": OAS.object(
                jobProperties.merging(["user_id": OAS.uuid, "video_url": OAS.string]) { $1 }, required: required + ["user_id", "video_url"]),
        ]
    }
}
