import Hummingbird

/// `/healthz` (the process answers) and `/readyz` (and so does its database).
struct HealthRoutes {
    let database: Database

    struct Status: ResponseEncodable {
        var status = "ok"
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("healthz") { _, _ in Status() }
        router.get("readyz") { _, _ in
            guard await self.database.isReachable() else { throw Problem.databaseUnavailable }
            return Status()
        }
    }
}
