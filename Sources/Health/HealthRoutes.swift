/// Answers the four endpoints of the health contract; everything else is 404 or 405.
struct HealthRoutes {
    struct Answer {
        var status: Int
        var contentType: StaticString
        var body: [UInt8]
        /// 405's `Allow` header.
        var allowsOnlyGet = false
    }

    let status: HealthStatus

    func answer(method: [UInt8], path: [UInt8]) -> Answer {
        let endpoint = Endpoint(path)
        guard let endpoint else {
            return Answer(status: 404, contentType: "text/plain", body: Array("not found; try /healthz /readyz /health /metrics\n".utf8))
        }
        // Compared with the literals' bytes in place: an array made of each was an allocation a request.
        guard method.elementsEqual("GET".utf8) || method.elementsEqual("HEAD".utf8) else {
            return Answer(status: 405, contentType: "text/plain", body: Array("method not allowed\n".utf8), allowsOnlyGet: true)
        }
        switch endpoint {
        case .healthz:
            let problems = status.problems()
            return problems.isEmpty
                ? Answer(status: 200, contentType: "text/plain", body: Array("ok\n".utf8))
                : Answer(status: 503, contentType: "text/plain", body: Array((problems.joined(separator: "\n") + "\n").utf8))
        case .readyz:
            return status.isReady
                ? Answer(status: 200, contentType: "text/plain", body: Array("ready\n".utf8))
                : Answer(status: 503, contentType: "text/plain", body: Array("waiting for the input file to appear\n".utf8))
        case .health:
            return Answer(status: 200, contentType: "application/json", body: Array(status.json().utf8))
        case .metrics:
            return Answer(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: MetricsExposition.render(status))
        }
    }

    private enum Endpoint {
        case healthz, readyz, health, metrics

        init?(_ path: [UInt8]) {
            if path.elementsEqual("/healthz".utf8) {
                self = .healthz
            } else if path.elementsEqual("/readyz".utf8) {
                self = .readyz
            } else if path.elementsEqual("/health".utf8) {
                self = .health
            } else if path.elementsEqual("/metrics".utf8) {
                self = .metrics
            } else {
                return nil
            }
        }
    }
}
