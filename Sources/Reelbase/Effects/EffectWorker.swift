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
    /// Run with `/bin/sh -c`, with `JOB_ID`, `EFFECT_ID` and `VIDEO_URL` in its environment.
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
            let job: JobView?
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

    /// Runs the command for one job. Exit 0 → the last line of its standard output is the output URL;
    /// anything else → the tail of its standard error is the error.
    func execute(_ job: JobView) async -> Outcome {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reelbase-job-\(job.jobID)")
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
            process.environment = ProcessInfo.processInfo.environment.merging(
                ["JOB_ID": job.jobID, "EFFECT_ID": job.effectID, "VIDEO_URL": job.videoURL ?? ""], uniquingKeysWith: { $1 })
            process.standardOutput = try FileHandle(forWritingTo: stdout)
            process.standardError = try FileHandle(forWritingTo: stderr)
            process.standardInput = FileHandle.nullDevice
            let status: Int32 = try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
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

    func claim() async throws -> JobView? {
        let response = try await self.post("claim", body: nil)
        switch response.status.code {
        case 204: return nil
        case 200: return try JSONCoding.decoder.decode(JobView.self, from: Data(buffer: try await response.body.collect(upTo: 1 << 20)))
        default: throw WorkerError("claim answered \(response.status.code)")
        }
    }

    /// Reports the outcome, retrying while the server is unreachable; a 409 means the job already ended
    /// (the sweeper timed it out), which is final.
    func report(_ job: JobView, _ outcome: Outcome) async {
        let (path, body): (String, [String: String]) = switch outcome {
        case .succeeded(let url): ("\(job.jobID)/complete", ["output_url": url])
        case .failed(let error): ("\(job.jobID)/fail", ["error": error])
        }
        for attempt in 1...8 {
            do {
                let response = try await self.post(path, body: try JSONEncoder().encode(body))
                if (200..<300).contains(response.status.code) || (400..<500).contains(response.status.code) {
                    self.logger.info(
                        "effect job reported",
                        metadata: ["job_id": .string(job.jobID), "report": .string(path), "status": "\(response.status.code)"])
                    return
                }
            } catch {
                self.logger.warning("report failed", metadata: ["job_id": .string(job.jobID), "error": .string("\(error)")])
            }
            try? await Task.sleep(for: .milliseconds(250 * (1 << attempt)))
        }
        self.logger.error("giving up reporting; the server's sweeper will end the job", metadata: ["job_id": .string(job.jobID)])
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
