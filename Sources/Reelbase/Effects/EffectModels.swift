import Foundation
import Hummingbird
import SQLKit

/// An AI video effect on offer and its price in credits.
struct Effect: Codable, Sendable, Equatable {
    var id: String
    var name: String
    var credits: Int
}

/// The effects on offer: built in, or those of `EFFECTS_FILE`.
struct EffectCatalog: Sendable {
    let effects: [Effect]

    static let builtIn = EffectCatalog(effects: [
        Effect(id: "glitch_animate", name: "AI Glitch: Animate", credits: 10),
        Effect(id: "anime_style", name: "AI Anime Style", credits: 20),
        Effect(id: "slow_motion", name: "AI Slow Motion", credits: 15),
    ])

    init(effects: [Effect]) {
        self.effects = effects
    }

    /// Reads `{"effects": [{"id", "name", "credits"}]}`; anything else stops start-up with the reason.
    init(contentsOf path: String) throws {
        struct File: Decodable { var effects: [Effect] }
        let file = try ConfigurationError.decodeFile(File.self, at: path, setting: "EFFECTS_FILE", holding: "effects")
        var seen = Set<String>()
        for effect in file.effects {
            guard !effect.id.isEmpty, !effect.name.isEmpty, (1...1_000_000).contains(effect.credits), seen.insert(effect.id).inserted
            else {
                throw ConfigurationError("EFFECTS_FILE: effect '\(effect.id)' needs a unique id, a name and 1 to 1000000 credits")
            }
        }
        guard !file.effects.isEmpty else { throw ConfigurationError("EFFECTS_FILE \(path) lists no effects") }
        self.effects = file.effects
    }

    func effect(id: String) -> Effect? {
        self.effects.first { $0.id == id }
    }
}

struct EffectList: ResponseEncodable {
    var effects: [Effect]
}

/// The states of a job: `queued` → `running` (claimed by a worker) → `succeeded` or `failed` (refunded).
enum JobStatus: String, Codable, Sendable, CaseIterable {
    case queued, running, succeeded, failed
}

/// An effect job as its owner sees it (`job` in API.md); the worker's view adds `user_id` and `video_url`.
struct EffectJob: Sendable, Decodable {
    var id: UUID
    var userID: UUID
    var effectID: String
    var effectName: String
    var videoID: UUID
    /// `nil` only if the video's row is gone (deleting a video keeps it).
    var videoURL: String?
    var status: JobStatus
    var creditsCharged: Int
    /// The `usage` row that charged it: its refund goes back to the lots that row drew from.
    var usageTransactionID: UUID
    var outputURL: String?
    var error: String?
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, status, error
        case userID = "user_id"
        case usageTransactionID = "usage_transaction_id"
        case effectID = "effect_id"
        case effectName = "effect_name"
        case videoID = "video_id"
        case videoURL = "video_url"
        case creditsCharged = "credits_charged"
        case outputURL = "output_url"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    static let columns: SQLQueryString = """
        effect_jobs.id, effect_jobs.user_id, effect_jobs.effect_id, effect_jobs.effect_name, effect_jobs.video_id,
        effect_jobs.status, effect_jobs.credits_charged, effect_jobs.usage_transaction_id, effect_jobs.output_url, effect_jobs.error,
        effect_jobs.created_at, effect_jobs.updated_at,
        (SELECT video_url FROM videos WHERE videos.id = effect_jobs.video_id) AS video_url
        """
}

/// A job just accepted and charged.
struct AcceptedJob: Sendable {
    var jobID: UUID
    var creditsCharged: Int
    var newBalance: Int
}

/// `job` of API.md: `{job_id, effect_id, video_id, status, credits_charged, output_url?, error?, created_at, updated_at}`,
/// plus `user_id` and `video_url` for workers.
struct JobView: ResponseCodable, Sendable {
    var jobID: String
    var effectID: String
    var videoID: String
    var status: JobStatus
    var creditsCharged: Int
    var outputURL: String?
    var error: String?
    var createdAt: Date
    var updatedAt: Date
    var userID: String?
    var videoURL: String?

    enum CodingKeys: String, CodingKey {
        case status, error
        case jobID = "job_id"
        case effectID = "effect_id"
        case videoID = "video_id"
        case creditsCharged = "credits_charged"
        case outputURL = "output_url"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case userID = "user_id"
        case videoURL = "video_url"
    }

    init(_ job: EffectJob, forWorker: Bool = false) {
        self.jobID = job.id.lowercased
        self.effectID = job.effectID
        self.videoID = job.videoID.lowercased
        self.status = job.status
        self.creditsCharged = job.creditsCharged
        self.outputURL = job.outputURL
        self.error = job.error
        self.createdAt = job.createdAt
        self.updatedAt = job.updatedAt
        self.userID = forWorker ? job.userID.lowercased : nil
        self.videoURL = forWorker ? (job.videoURL ?? "") : nil
    }
}

/// `202` answer of `POST /v1/effects/{effect_id}/jobs`.
struct JobAcceptedResponse: Codable, Sendable {
    var jobID: String
    var status: JobStatus
    var creditsCharged: Int
    var newBalance: Int

    enum CodingKeys: String, CodingKey {
        case status
        case jobID = "job_id"
        case creditsCharged = "credits_charged"
        case newBalance = "new_balance"
    }

    init(_ job: AcceptedJob) {
        self.jobID = job.jobID.lowercased
        self.status = .queued
        self.creditsCharged = job.creditsCharged
        self.newBalance = job.newBalance
    }
}
