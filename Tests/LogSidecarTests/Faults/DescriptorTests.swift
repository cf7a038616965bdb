import Foundation
import Testing

/// Idle clients of the health port cannot take the descriptors that following and checkpointing need.
@Suite("Faults: descriptors")
struct DescriptorTests {
    /// Starts a non-blocking connect to 127.0.0.1:`port` and keeps the socket, whether or not it is accepted.
    static func idleConnection(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        _ = HTTPClient.withLoopback(port: port) { connect(fd, $0, $1) }
        return fd
    }

    static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    @Test("2,000 idle connections to the health port under a 1,024 descriptor limit while the file rotates: every line shipped, checkpoint written")
    func idleConnections() throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        try #require(limit.rlim_max >= 4_096, "the test holds 2,000 sockets of its own")
        if limit.rlim_cur < 4_096 {
            limit.rlim_cur = min(limit.rlim_max, 8_192)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 1_000)
        let port = HTTPClient.freePort()
        // A hard limit of 1,024, as many container runtimes set: raising the soft limit cannot help here.
        let daemon = try DaemonProcess(
            arguments: scenario.arguments(["--health-address", "127.0.0.1", "--health-port", "\(port)"]),
            stdoutPath: scenario.output, executable: "/usr/bin/prlimit", prefix: ["--nofile=1024:1024", DaemonProcess.binary])
        try scenario.waitForShipped(1_000)
        let connections = (0..<2_000).map { _ in Self.idleConnection(port: port) }
        defer { for connection in connections { close(connection) } }
        // Clients whose SYN was dropped retry after 1 s and 3 s: wait until the daemon has taken all it will.
        var held = (count: Self.openDescriptors(daemon.pid), since: Date())
        try waitUntil("the daemon's descriptor count to settle", seconds: 20) {
            let now = Self.openDescriptors(daemon.pid)
            if now != held.count { held = (now, Date()) }
            return now > 40 && Date().timeIntervalSince(held.since) >= 2.5
        }
        let started = Date()
        // Each rotation once the daemon has the file (a single path cannot see a file it never opened).
        for round in 1...3 {
            writer.write(count: 1_000)
            try scenario.waitForShipped(1_000 + round * 1_000, seconds: 4)
            writer.rotate(.renameAndCreate)
        }
        writer.write(count: 1_000)
        try scenario.waitForShipped(5_000, seconds: 4)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: scenario.input)[.size] as? Int)
        try waitUntil("the checkpoint at the end of the new file", seconds: 4) {
            Output.checkpointOffset(scenario.checkpoint) == size
        }
        let open = Self.openDescriptors(daemon.pid)
        #expect(open < 150, "\(open) descriptors open with 2,000 clients waiting")
        print(
            "idle connections: 5,000 lines and 3 rotations shipped in \(Date().timeIntervalSince(started)) s with 2,000 clients, \(open) descriptors open"
        )
        #expect(try daemon.stop() == 0)
        #expect(scenario.shipped == Array(0..<5_000))
    }
}
