import Foundation

/// Scrapes /metrics from several threads at a fixed total rate, for a bounded time, on loopback only.
final class ScrapeLoad: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    private var failed = 0
    private let group = DispatchGroup()

    static func start(port: Int, perSecond: Int, seconds: Double, concurrency: Int) -> ScrapeLoad {
        let load = ScrapeLoad()
        let interval = Double(concurrency) / Double(perSecond)
        for _ in 0..<concurrency {
            load.group.enter()
            Thread.detachNewThread {
                let start = Date()
                var next = 0.0
                while Date().timeIntervalSince(start) < seconds {
                    let response = HTTPClient.get(port: port, "/metrics")
                    let ok = response?.status == 200 && response!.body.contains("log_sidecar_lines_read_total")
                    load.lock.withLock {
                        load.done += 1
                        if !ok { load.failed += 1 }
                    }
                    next += interval
                    let wait = next - Date().timeIntervalSince(start)
                    if wait > 0 { Thread.sleep(forTimeInterval: wait) }  // pacing of the load, not a wait for a condition
                }
                load.group.leave()
            }
        }
        return load
    }

    func wait() -> (done: Int, failed: Int) {
        group.wait()
        return lock.withLock { (done, failed) }
    }
}
