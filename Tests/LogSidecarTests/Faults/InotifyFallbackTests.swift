import Foundation
import Testing

/// inotify is a hint: without it the stat poll follows the file, and inotify comes back when it can.
@Suite("Faults: inotify unavailable", .enabled(if: getuid() == 0, "needs root to run the daemon as another user"))
struct InotifyFallbackTests {
    @Test("the daemon's UID has used up its 128 inotify instances: every line still shipped, /health says poll, inotify back later")
    func instancesExhausted() throws {
        let uid = 61_001
        let limit =
            Int(
                (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_user_instances", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 128
        // Another "container" of the same UID holds every instance the kernel allows that user.
        let holder = try OtherUser.Helper(
            uid: uid,
            python: """
                import ctypes, time
                libc = ctypes.CDLL(None)
                held = [fd for fd in (libc.inotify_init1(0) for _ in range(\(limit + 10))) if fd >= 0]
                print(len(held), flush=True)
                time.sleep(300)
                """)
        #expect(Int(holder.firstLine()) == limit)

        let scenario = Scenario()
        let writer = LogWriter(path: scenario.input)
        writer.write(count: 2_000)
        let port = HTTPClient.freePort()
        let daemon = try OtherUser.start(scenario, uid: uid, ["--health-address", "127.0.0.1", "--health-port", "\(port)"])
        try scenario.waitForShipped(2_000)
        let health = try #require(HTTPClient.get(port: port, "/health"))
        #expect(try Output.object(Substring(health.body))["watch"] as? String == "poll")
        #expect(HTTPClient.get(port: port, "/metrics")?.body.contains("log_sidecar_inotify_active 0\n") == true)
        #expect(HTTPClient.get(port: port, "/healthz")?.status == 200)

        // Rotations and writes are followed by the poll alone.
        writer.run(rate: 2_000, seconds: 3, rotation: .renameAndCreate)
        try scenario.waitForShipped(writer.written)

        holder.stop()
        try waitUntil("inotify to come back", seconds: 20) {
            HTTPClient.get(port: port, "/metrics")?.body.contains("log_sidecar_inotify_active 1\n") == true
        }
        writer.write(count: 1_000)
        try scenario.waitForShipped(writer.written)
        #expect(try daemon.stop() == 0)
        #expect(scenario.shipped == Array(0..<writer.written))
        print("inotify exhausted: \(writer.written) written, \(scenario.shipped.count) shipped, 3 rotations by stat poll alone")
        #expect(daemon.stderr.components(separatedBy: "inotify unavailable").count == 2, "warned once: \(daemon.stderr)")
        #expect(daemon.stderr.contains("inotify works again"))
    }
}
