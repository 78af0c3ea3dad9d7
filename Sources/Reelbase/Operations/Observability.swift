import Hummingbird
import Metrics
import NIOConcurrencyHelpers
import Prometheus

/// Prometheus metrics through swift-metrics. The metrics system is global to the process, so it is bootstrapped
/// once, with the registry that `GET /metrics` renders.
enum Observability {
    private static let bootstrapped = NIOLockedValueBox(false)
    static let registry = PrometheusCollectorRegistry()

    static func bootstrapMetrics() {
        self.bootstrapped.withLockedValue { done in
            guard !done else { return }
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: self.registry))
            done = true
        }
    }

    /// Pooled connections currently lent out, per database kind.
    static func connectionsInUse(_ dialect: SQLDialectKind) -> Meter {
        Meter(label: "reelbase_db_connections_in_use", dimensions: [("database", dialect == .postgres ? "postgres" : "sqlite")])
    }

    /// A request answered `503 database_unavailable`, by why.
    static func databaseUnavailable(_ reason: DatabaseUnavailable.Reason) {
        Counter(label: "reelbase_db_unavailable_total", dimensions: [("reason", reason.rawValue)]).increment()
    }

    static func ledgerRowWritten(_ type: CreditLedger.TransactionType) {
        Counter(label: "reelbase_ledger_rows_total", dimensions: [("type", type.rawValue)]).increment()
    }
}

/// `GET /metrics`: Prometheus text. Effect-job counts by state are read from the database at scrape time, so every
/// instance reports the same shared truth.
struct MetricsRoutes {
    let jobs: EffectJobStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("metrics") { _, _ -> Response in
            // A scrape still answers while the database is down; only the job gauges go stale.
            if let counts = try? await self.jobs.countsByStatus() {
                for state in JobStatus.allCases {
                    Gauge(label: "reelbase_effect_jobs", dimensions: [("state", state.rawValue)]).record(counts[state] ?? 0)
                }
            }
            var buffer = ByteBuffer()
            buffer.writeBytes(Observability.registry.emitToBuffer())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: buffer))
        }
    }
}
