import Glibc
import Logging
import Synchronization
import TestSupport
import Testing

@testable import Configuration
@testable import Filters
@testable import Sinks
@testable import SystemSupport
@testable import Tailing
@testable import Telemetry

/// The file server's timing, driven by a scripted directory-event source and a clock moved by hand:
/// what is looked at between two polls, and when, without a kernel event or a sleep.
@Suite("File server, with a scripted watcher and clock")
struct FileServerSeamTests {
    struct Rig {
        let directory = TestDirectory()
        let events = ScriptedDirectoryEvents()
        let clock = ManualClock()
        let consumer = RecordingConsumer()
        let counters = Counters(sinkNames: [])
        var inotifyFails = false
        var config = InputConfig()

        init(paths: [String]) {
            config.paths = paths.map { directory.file($0) }
            config.checkpointPath = ""
            config.pollIntervalMs = 250
            config.rotateWaitMs = 1_000
        }

        func server() -> FileServer {
            FileServer(
                config: config, consumer: consumer, counters: counters, logger: Logger(label: "test"), clock: clock,
                events: { [events, inotifyFails] () throws(SystemError) -> any DirectoryEvents in
                    if inotifyFails { throw SystemError(call: "inotify_init1", errno: EMFILE) }
                    return events
                })
        }

        var texts: [String] { consumer.lines.map(\.text) }
    }

    @Test("between polls only the files an event names are looked at; the next poll looks at the rest")
    func eventsBetweenPolls() throws {
        let rig = Rig(paths: ["*.log"])
        rig.directory.write("a.log", "a1\n")
        rig.directory.write("b.log", "b1\n")
        let server = rig.server()
        try server.start(from: nil)
        #expect(try server.cycle() == .caughtUp)
        #expect(rig.texts == ["a1", "b1"])
        #expect(rig.events.watched.values.contains(rig.directory.path))

        rig.directory.append("a.log", "a2\n")
        rig.directory.append("b.log", "b2\n")
        rig.events.written("a.log", in: rig.directory.path)
        server.drainEvents()
        _ = try server.cycle()
        #expect(rig.texts == ["a1", "b1", "a2"], "b.log had no event and no poll was due")

        rig.clock.advance(ms: 250)
        _ = try server.cycle()
        #expect(rig.texts == ["a1", "b1", "a2", "b2"], "a recently written file is looked at on every poll")
    }

    @Test("a write whose event was lost, in a file quiet for long, is found by the sweep within ten polls")
    func quietSweep() throws {
        let rig = Rig(paths: ["*.log"])
        rig.directory.write("quiet.log", "one\n")
        let server = rig.server()
        try server.start(from: nil)
        _ = try server.cycle()
        rig.clock.advance(ms: FileServer.activeWindowMs + 1)
        rig.directory.append("quiet.log", "two\n")
        var polls = 0
        while rig.texts.count < 2 && polls < 2 * FileServer.quietSweepTicks {
            rig.clock.advance(ms: 250)
            polls += 1
            _ = try server.cycle()
        }
        #expect(rig.texts == ["one", "two"])
        #expect(polls <= FileServer.quietSweepTicks, "found after \(polls) polls")
    }

    @Test("an overflowed event queue looks at every file at once, poll or not")
    func overflow() throws {
        let rig = Rig(paths: ["*.log"])
        rig.directory.write("a.log", "a1\n")
        let server = rig.server()
        try server.start(from: nil)
        _ = try server.cycle()
        rig.directory.append("a.log", "a2\n")
        rig.directory.write("new.log", "n1\n")
        var overflowed = Inotify.Drained()
        overflowed.overflowed = true
        rig.events.queued = [overflowed]
        server.drainEvents()
        _ = try server.cycle()
        #expect(Set(rig.texts) == ["a1", "a2", "n1"])
    }

    @Test("without inotify a new file is found at the next poll on the clock, not before")
    func pollAlone() throws {
        var rig = Rig(paths: ["*.log"])
        rig.inotifyFails = true
        let server = rig.server()
        try server.start(from: nil)
        #expect(server.eventDescriptor == nil)
        rig.directory.write("late.log", "here\n")
        _ = try server.cycle()
        rig.clock.advance(ms: 249)
        _ = try server.cycle()
        #expect(rig.texts.isEmpty)
        rig.clock.advance(ms: 1)
        _ = try server.cycle()
        #expect(rig.texts == ["here"])
    }

    @Test("a rotated file is kept open until it has been quiet for rotate_wait_ms on the clock, and read to its end")
    func rotateWait() throws {
        let rig = Rig(paths: ["app.log"])
        rig.directory.write("app.log", "1\n")
        let server = rig.server()
        try server.start(from: nil)
        _ = try server.cycle()
        #expect(rename(rig.directory.file("app.log"), rig.directory.file("app.log.1")) == 0)
        rig.directory.write("app.log", "3\n")
        rig.events.changed(rig.directory.path)
        server.drainEvents()
        _ = try server.cycle()
        #expect(server.openCount == 2)
        // A writer that has not reopened yet still writes the rotated file.
        rig.clock.advance(ms: 900)
        rig.directory.append("app.log.1", "2\n")
        _ = try server.cycle()
        rig.clock.advance(ms: 999)
        _ = try server.cycle()
        #expect(server.openCount == 2, "quiet for 999 ms only")
        rig.clock.advance(ms: 1)
        _ = try server.cycle()
        #expect(server.openCount == 1)
        // The new file is read once the rotated one was drained; a late write to the rotated one follows.
        #expect(rig.texts == ["1", "3", "2"])
        #expect(Set(rig.consumer.lines.map(\.origin)) == [rig.directory.file("app.log")])
    }

    /// copytruncate as logrotate does it: the file's bytes into `copy`, then the file cut to nothing.
    static func copyTruncate(_ directory: TestDirectory, _ name: String, to copy: String, then text: String = "") {
        directory.write(copy, directory.read(name))
        #expect(truncate(directory.file(name), 0) == 0)
        if !text.isEmpty { directory.append(name, text) }
    }

    @Test("copytruncate while a short file is read: its fingerprint is what was read, not what the file holds later")
    func shortFileTruncatedDuringRead() throws {
        for paths in [["app.log"], ["app.log*"]] {
            let rig = Rig(paths: paths)
            rig.directory.write("app.log", "a1\n")
            let server = rig.server()
            try server.start(from: nil)
            _ = try server.cycle()
            rig.directory.append("app.log", "a2\n")
            // Rotated, and written again, between the read of a2 and the delivery of its batch.
            rig.consumer.onConsume = { text in
                if text == "a2" { Self.copyTruncate(rig.directory, "app.log", to: "app.log.1", then: "b1\nb2\nb3\n") }
            }
            rig.events.written("app.log", in: rig.directory.path)
            server.drainEvents()
            _ = try server.cycle()
            rig.consumer.onConsume = nil
            rig.events.changed(rig.directory.path)
            server.drainEvents()
            for _ in 0..<8 {
                rig.clock.advance(ms: 250)
                _ = try server.cycle()
            }
            #expect(rig.texts == ["a1", "a2", "b1", "b2", "b3"], "patterns \(paths)")
        }
    }

    @Test("copytruncate after a read the batch still holds: the copy is read from past that read")
    func truncatedWithReadsInTheBatch() throws {
        let rig = Rig(paths: ["app.log"])
        // Lines that do not divide the read size: every full read ends in a partial line, so the next
        // one has less room than a batch and does not deliver it.
        let line = String(repeating: "x", count: 90)
        var text = ""
        for number in 0..<9_000 { text += "\(line)\(100_000 + number)\n" }
        rig.directory.write("app.log", text)
        let server = rig.server()
        try server.start(from: nil)
        var taken = 0
        rig.consumer.onConsume = { _ in
            taken += 1
            // The first read ends the pass (its budget spent on the clock); the second is cut short.
            if taken == 1 { rig.clock.advance(ms: server.passBudgetMs) }
            if taken == 3_000 { Self.copyTruncate(rig.directory, "app.log", to: "app.log.1") }
        }
        #expect(try server.cycle() == .budgetSpent)
        rig.clock.advance(ms: 1)
        _ = try server.cycle()
        rig.consumer.onConsume = nil
        for _ in 0..<8 {
            rig.clock.advance(ms: 250)
            _ = try server.cycle()
        }
        let expected = text.split(separator: "\n").map(String.init)
        #expect(rig.texts.count == expected.count)
        let firstDifference = zip(rig.texts, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstDifference == nil, "lines in order, each once")
        #expect(server.counters.truncations.load(ordering: .relaxed) >= 1)
    }

    @Test("a departed file renamed again between the listing and its open resumes under its next name")
    func departedRenamedBeforeOpen() throws {
        let rig = Rig(paths: ["*.log"])
        rig.directory.write("x.log", "x1\nx2\n")
        let before = rig.server()
        try before.start(from: nil)
        _ = try before.cycle()
        let saved = before.checkpoint
        #expect(saved.entries.map(\.offset) == [6])
        // Moved out of sight while the daemon was down: the restart remembers it as departed.
        #expect(mkdir(rig.directory.file("aside"), 0o755) == 0)
        #expect(rename(rig.directory.file("x.log"), rig.directory.file("aside/x.log")) == 0)
        let server = rig.server()
        try server.start(from: saved)
        // A listing sees it come back as a.log, and it moves on to b.log before the open.
        #expect(rename(rig.directory.file("aside/x.log"), rig.directory.file("a.log")) == 0)
        let status = try #require(try FileStatus.at(rig.directory.file("a.log")))
        let candidate = Discovery.Candidate(path: rig.directory.file("a.log"), device: status.device, inode: status.inode, size: status.size)
        #expect(rename(rig.directory.file("a.log"), rig.directory.file("b.log")) == 0)
        rig.directory.append("b.log", "x3\n")
        #expect(server.reconcile(Discovery.Result(candidates: [candidate], directories: [rig.directory.path])) == nil)
        rig.events.changed(rig.directory.path)
        server.drainEvents()
        rig.clock.advance(ms: 250)
        _ = try server.cycle()
        #expect(rig.texts == ["x1", "x2", "x3"])
    }

    /// A file closed for room, then truncated and written by copytruncate: longer than it was, or to
    /// the very size it had (other lines of as many bytes, seen by its modification time).
    @Test(
        "a file closed for room, then copytruncated and written again, longer or to its very size, is read from its start",
        arguments: ["a2, after the copy", "a2"])
    func copyTruncatedWhileClosedForRoom(rewrite: String) throws {
        var rig = Rig(paths: ["*.log"])
        rig.config.maxOpenFiles = 1
        rig.directory.write("a.log", "a1\n")
        rig.directory.write("b.log", "b1\n")
        let server = rig.server()
        try server.start(from: nil)
        func pass() throws {
            rig.events.changed(rig.directory.path)
            server.drainEvents()
            rig.clock.advance(ms: Int64(rig.config.rotateWaitMs))
            _ = try server.cycle()
        }
        try pass()
        try pass()
        #expect(rig.texts == ["a1", "b1"], "one descriptor: a.log closed, quiet, for b.log")
        #expect(server.files.first { $0.lastPath.hasSuffix("/a.log") }?.isOpen == false)
        Self.copyTruncate(rig.directory, "a.log", to: "a.log.1", then: rewrite + "\n")
        // Written later than the close, as a rotation is: a file's time moves in steps of the kernel's
        // tick, which a test this fast could stay within.
        let later = timespec(tv_sec: time(nil) + 5, tv_nsec: 0)
        var times = [later, later]
        #expect(utimensat(AT_FDCWD, rig.directory.file("a.log"), &times, 0) == 0)
        for _ in 0..<3 { try pass() }
        #expect(rig.texts == ["a1", "b1", rewrite])
    }

    /// The tally the server keeps as files change, against a count over every file: they agree.
    static func expectTallyHolds(_ server: FileServer, _ counters: Counters, _ step: String) {
        let lag = server.files.reduce(Int64(0)) { $0 + $1.lagBytes }
        #expect(server.tally.lagBytes == lag, "lag after \(step)")
        #expect(counters.lagBytes.load(ordering: .relaxed) == Int(lag), "lag gauge after \(step)")
        #expect(server.tally.waiting == server.files.filter(\.waiting).count, "waiting after \(step)")
        #expect(counters.filesWaiting.load(ordering: .relaxed) == server.files.filter(\.waiting).count, "waiting gauge after \(step)")
        let unlisted = server.files.filter { file in !file.atEndOfFile && !server.tally.unread.contains { $0 === file } }
        #expect(unlisted.isEmpty, "every file not at its end is listed, after \(step)")
        #expect(
            server.nextRotationDeadlineMs
                == server.files.filter { $0.path == nil && $0.isOpen && !$0.isCopy }.map {
                    $0.lastGrowthMs + Int64(server.config.rotateWaitMs)
                }.min(), "rotation deadline after \(step)")
    }

    @Test("lag, waiting, unread files and files that left the patterns, kept as files change, match a look at every file")
    func tallyMatchesACount() throws {
        var rig = Rig(paths: ["*.log"])
        rig.config.maxOpenFiles = 2
        for name in ["a", "b", "c"] { rig.directory.write("\(name).log", "\(name)1\n") }
        let server = rig.server()
        try server.start(from: nil)
        Self.expectTallyHolds(server, rig.counters, "start")
        func pass(_ step: String, events: Bool = true) throws {
            if events {
                rig.events.changed(rig.directory.path)
                server.drainEvents()
            }
            rig.clock.advance(ms: 250)
            _ = try server.cycle()
            Self.expectTallyHolds(server, rig.counters, step)
        }
        try pass("first read")
        #expect(server.tally.waiting == 1, "three files, two descriptors")
        server.checkpointed(server.checkpoint)
        Self.expectTallyHolds(server, rig.counters, "a checkpoint")
        rig.clock.advance(ms: Int64(rig.config.rotateWaitMs))
        try pass("a quiet file closed for the waiting one")
        #expect(server.tally.waiting == 0)
        rig.directory.append("a.log", "a2\n")
        rig.directory.append("c.log", "c2\n")
        try pass("two files grew")
        #expect(rename(rig.directory.file("a.log"), rig.directory.file("a.old")) == 0)
        rig.directory.write("a.log", "a3\n")
        try pass("a rotation by rename")
        Self.copyTruncate(rig.directory, "b.log", to: "b.log.1", then: "b2 longer\n")
        try pass("copytruncate")
        #expect(unlink(rig.directory.file("c.log")) == 0)
        try pass("a deletion")
        rig.directory.append("a.old", "a4\n")
        try pass("a late write to the rotated file", events: false)
        for step in 0..<8 { try pass("quiet \(step)", events: false) }
        rig.clock.advance(ms: Int64(rig.config.rotateWaitMs))
        try pass("past rotate_wait_ms")
        server.checkpointed(server.checkpoint)
        Self.expectTallyHolds(server, rig.counters, "the last checkpoint")
        #expect(server.tally.lagBytes == 0, "everything read was checkpointed")
        #expect(Set(rig.texts) == ["a1", "b1", "c1", "a2", "c2", "a3", "b2 longer", "a4"])
    }
}
