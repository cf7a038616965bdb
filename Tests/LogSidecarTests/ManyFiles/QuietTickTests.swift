import Glibc
import Synchronization
import TestSupport
import Testing

@testable import Configuration
@testable import SystemSupport
@testable import Tailing
@testable import Telemetry

/// The poll tick of a settled file server: only the stats a full pass would make, and that pass
/// itself as soon as one of them moved. A full pass always hands its batch over (`deliver`, even when
/// empty), a quiet tick never does: that is how these tests tell the two apart.
@Suite("File server, quiet poll ticks")
struct QuietTickTests {
    typealias Rig = FileServerSeamTests.Rig

    /// A server that read `text` from `name` and settled; the next poll is due after `poll()`.
    static func settled(_ rig: Rig, _ name: String, _ text: String) throws -> FileServer {
        rig.directory.write(name, text)
        let server = rig.server()
        try server.start(from: nil)
        #expect(try server.cycle() == .caughtUp)
        return server
    }

    static func poll(_ rig: Rig, _ server: FileServer) throws {
        rig.clock.advance(ms: Int64(rig.config.pollIntervalMs))
        #expect(try server.cycle() == .caughtUp)
    }

    /// A poll past the 2 s in which discovery lists a directory changed lately again at each poll (it
    /// may still be written in the same coarse clock tick, `Discovery`): the ticks after it may be quiet.
    static func pollPastDiscoveryWindow(_ rig: Rig, _ server: FileServer) throws {
        rig.clock.advance(ms: 2_500)
        try poll(rig, server)
    }

    @Test("nothing moved: each poll tick is quiet, for a literal path and for a glob")
    func quietTicks() throws {
        for paths in [["app.log"], ["*.log"]] {
            let rig = Rig(paths: paths)
            let server = try Self.settled(rig, "app.log", "a1\n")
            try Self.pollPastDiscoveryWindow(rig, server)
            let deliveries = rig.consumer.deliveries
            for _ in 0..<2 * FileServer.quietSweepTicks { try Self.poll(rig, server) }
            #expect(rig.consumer.deliveries == deliveries, "patterns \(paths)")
            #expect(rig.texts == ["a1"])
        }
    }

    @Test("a write with no event is read at the tick that sweeps its file")
    func writeWithoutEvent() throws {
        let rig = Rig(paths: ["*.log"])
        let server = try Self.settled(rig, "app.log", "a1\n")
        try Self.poll(rig, server)
        rig.directory.append("app.log", "a2\n")
        try Self.poll(rig, server)
        #expect(rig.texts == ["a1", "a2"], "written lately: swept at every tick")
    }

    @Test("a file rewritten in place at the same size, with no event, is read again from its start")
    func rewrittenSameSize() throws {
        // A glob: discovery stats the directory, not the file (a literal path's stat would see it too).
        let rig = Rig(paths: ["*.log"])
        let server = try Self.settled(rig, "app.log", "a1\n")
        try Self.pollPastDiscoveryWindow(rig, server)
        try Self.poll(rig, server)
        // In place: the same inode (`TestDirectory.write` replaces the file).
        let fd = open(rig.directory.file("app.log"), O_WRONLY)
        #expect(fd >= 0)
        #expect(pwrite(fd, "b1\n", 3, 0) == 3)
        close(fd)
        // A later modification time, as a rewrite in the same coarse clock tick may not get by itself.
        var times = [timespec(tv_sec: time(nil) + 5, tv_nsec: 0), timespec(tv_sec: time(nil) + 5, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, rig.directory.file("app.log"), &times, 0) == 0)
        try Self.poll(rig, server)
        #expect(rig.texts == ["a1", "b1"])
    }

    @Test("a file truncated with no event: the tick that sweeps it runs the full pass, which sees it")
    func truncatedWithoutEvent() throws {
        let rig = Rig(paths: ["app.log"])
        let server = try Self.settled(rig, "app.log", "a1\na2\n")
        try Self.poll(rig, server)
        #expect(truncate(rig.directory.file("app.log"), 0) == 0)
        rig.directory.append("app.log", "b\n")
        try Self.poll(rig, server)
        #expect(rig.texts == ["a1", "a2", "b"])
        #expect(server.counters.truncations.load(ordering: .relaxed) == 1)
    }

    @Test("a file rotated by rename with no event: discovery's stat moved, the full pass follows the new file")
    func rotatedWithoutEvent() throws {
        let rig = Rig(paths: ["app.log"])
        let server = try Self.settled(rig, "app.log", "a1\n")
        try Self.poll(rig, server)
        rig.directory.append("app.log", "a2\n")
        #expect(rename(rig.directory.file("app.log"), rig.directory.file("app.log.1")) == 0)
        rig.directory.write("app.log", "b1\n")
        try Self.poll(rig, server)
        #expect(rig.texts == ["a1", "a2", "b1"])
    }

    @Test("a per-file report held back after a read is made by the quiet ticks that follow")
    func heldBackReportIsMade() throws {
        // A glob: an append changes a literal path's stat, which discovery then lists again for 2 s.
        let rig = Rig(paths: ["*.log"])
        let server = try Self.settled(rig, "app.log", "a1\n")
        try Self.pollPastDiscoveryWindow(rig, server)
        func reportedLag() -> Int64? { rig.counters.files.withLock { $0.first?.lag } }
        #expect(reportedLag() == 3, "nothing acknowledged: all that was read")

        // Read within half a second of that report: the gauges move, the report waits.
        rig.directory.append("app.log", "a2\n")
        rig.events.written("app.log", in: rig.directory.path)
        server.drainEvents()
        rig.clock.advance(ms: 10)
        #expect(try server.cycle() == .caughtUp)
        #expect(rig.texts == ["a1", "a2"])
        #expect(rig.counters.lagBytes.load(ordering: .relaxed) == 6)
        #expect(reportedLag() == 3)

        // Settled now, so the next ticks are quiet ones; the second is half a second past the report.
        let deliveries = rig.consumer.deliveries
        try Self.poll(rig, server)
        try Self.poll(rig, server)
        #expect(rig.consumer.deliveries == deliveries, "quiet ticks")
        #expect(reportedLag() == 6)
    }

    @Test("a line waiting for its newline, or inotify gone, keeps every poll tick a full pass")
    func notSettled() throws {
        let rig = Rig(paths: ["app.log"])
        let server = try Self.settled(rig, "app.log", "a1\npartial")
        var deliveries = rig.consumer.deliveries
        try Self.poll(rig, server)
        #expect(rig.consumer.deliveries == deliveries + 1, "a partial line is pending")

        var alone = Rig(paths: ["app.log"])
        alone.inotifyFails = true
        let polled = try Self.settled(alone, "app.log", "a1\n")
        deliveries = alone.consumer.deliveries
        try Self.poll(alone, polled)
        #expect(alone.consumer.deliveries == deliveries + 1, "the stat poll alone: no event says what moved")
    }
}
