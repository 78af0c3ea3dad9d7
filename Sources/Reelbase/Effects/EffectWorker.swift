import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import ServiceLifecycle

/// The worker loop of `reelbase worker`: claims effect jobs over HTTP, runs a command for each, reports the result.
///
/// On graceful shutdown (SIGTERM, SIGINT) it finishes the job in hand, reports it, and stops; a worker killed
/// outright leaves its job `running`, and the server's sweeper fails and refunds it after `EFFECT_JOB_TIMEOUT`.
struct EffectWorker: Service {
    let server: URL
    let serviceKey: String
    /// Run with `/bin/sh -c`, with `JOB_ID`, `EFFECT_ID` and `VIDEO_URL` in its environment (see ``environment(for:inherited:serviceKey:)``).
    let command: String
    /// Stop after this many jobs (`nil`: run until shut down).
    let maxJobs: Int?
    let httpClient: HTTPClient
    let logger: Logger

    static let idleBackoff: ClosedRange<Duration> = .milliseconds(200) ... .seconds(5)

    func run() async throws {
        var idle = Self.idleBackoff.lowerBound
        var handled = 0
        while !Task.isShuttingDownGracefully, !Task.isCancelled, self.maxJobs.map({ handled < $0 }) ?? true {
            let job: ClaimedJob?
            do {
                job = try await self.claim()
            } catch {
                self.logger.warning("claim failed", metadata: ["error": .string(String(describing: error))])
                job = nil
            }
            guard let job else {
                let pause = idle
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
                idle = min(idle * 2, Self.idleBackoff.upperBound)
                continue
            }
            idle = Self.idleBackoff.lowerBound
            let outcome = await self.execute(job)
            await self.report(job, outcome)
            handled += 1
        }
    }

    enum Outcome: Sendable {
        case succeeded(outputURL: String)
        case failed(error: String)
    }

    /// A claimed job whose id was checked to be a UUID, the only form in which it goes into a path (the server's URL
    /// and the temporary directory): a server that answered `../..` must not steer where the worker writes or posts.
    struct ClaimedJob: Sendable {
        let id: UUID
        let view: JobView

        init(_ view: JobView) throws {
            guard let id = UUID(text: view.jobID) else {
                throw WorkerError("the server's claim answer has a job_id that is not a UUID: \(view.jobID.truncated(to: 40))")
            }
            self.id = id
            self.view = view
        }
    }

    /// The command's environment: the worker's own, less `SERVICE_KEY` and any variable holding the key (the renderer
    /// needs no access to the internal endpoints, and what is in its environment reaches its logs, crash reports and
    /// child processes), plus the job.
    static func environment(for job: ClaimedJob, inherited: [String: String], serviceKey: String) -> [String: String] {
        inherited.filter { name, value in name != "SERVICE_KEY" && value != serviceKey }.merging(
            ["JOB_ID": job.id.lowercased, "EFFECT_ID": job.view.effectID, "VIDEO_URL": job.view.videoURL ?? ""],
            uniquingKeysWith: { $1 })
    }

    /// Runs the command for one job. Exit 0 → the last line of its standard output is the output URL;
    /// anything else → the tail of its standard error is the error.
    func execute(_ job: ClaimedJob) async -> Outcome {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reelbase-job-\(job.id.lowercased)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let stdout = directory.appendingPathComponent("stdout")
            let stderr = directory.appendingPathComponent("stderr")
            FileManager.default.createFile(atPath: stdout.path, contents: nil)
            FileManager.default.createFile(atPath: stderr.path, contents: nil)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", self.command]
            process.environment = Self.environment(for: job, inherited: ProcessInfo.processInfo.environment, serviceKey: self.serviceKey)
            process.standardOutput = try FileHandle(forWritingTo: stdout)
            process.standardError = try FileHandle(forWritingTo: stderr)
            process.standardInput = FileHandle.nullDevice
            // No limit of its own: the server's sweeper ends a job that runs past EFFECT_JOB_TIMEOUT.
            let status = try await ChildProcess.run(process)
            let output = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
            let errors = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
            let lastLine = output.split(whereSeparator: \.isNewline).last.map(String.init)?.trimmingCharacters(in: .whitespaces)
            if status == 0, let lastLine, !lastLine.isEmpty {
                return .succeeded(outputURL: lastLine)
            }
            let tail = String(errors.suffix(2000)).trimmingCharacters(in: .whitespacesAndNewlines)
            return .failed(error: status == 0 ? "The effect command printed no output URL." : "Exit status \(status): \(tail)")
        } catch {
            return .failed(error: "The effect command could not be started: \(error)")
        }
    }

    // MARK: HTTP

    func claim() async throws -> ClaimedJob? {
        let response = try await self.post("claim", body: nil)
        switch response.status.code {
        case 204: return nil
        case 200:
            return try ClaimedJob(JSONCoding.decoder.decode(JobView.self, from: Data(buffer: try await response.body.collect(upTo: 1 << 20))))
        default: throw WorkerError("claim answered \(response.status.code)")
        }
    }

    /// Reports the outcome, retrying while the server is unreachable; a 409 means the job already ended
    /// (the sweeper timed it out), which is final.
    func report(_ job: ClaimedJob, _ outcome: Outcome) async {
        let jobID = job.id.lowercased
        let (path, body): (String, [String: String]) = switch outcome {
        case .succeeded(let url): ("\(jobID)/complete", ["output_url": url])
        case .failed(let error): ("\(jobID)/fail", ["error": error])
        }
        for attempt in 1...8 {
            do {
                let response = try await self.post(path, body: try JSONEncoder().encode(body))
                if (200..<300).contains(response.status.code) || (400..<500).contains(response.status.code) {
                    self.logger.info(
                        "effect job reported",
                        metadata: ["job_id": .string(jobID), "report": .string(path), "status": "\(response.status.code)"])
                    return
                }
            } catch {
                self.logger.warning("report failed", metadata: ["job_id": .string(jobID), "error": .string("\(error)")])
            }
            try? await Task.sleep(for: .milliseconds(250 * (1 << attempt)))
        }
        self.logger.error("giving up reporting; the server's sweeper will end the job", metadata: ["job_id": .string(jobID)])
    }

    private func post(_ path: String, body: Data?) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: self.server.appendingPathComponent("v1/internal/effect-jobs/\(path)").absoluteString)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(self.serviceKey)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        return try await self.httpClient.execute(request, timeout: .seconds(30))
    }

    struct WorkerError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
