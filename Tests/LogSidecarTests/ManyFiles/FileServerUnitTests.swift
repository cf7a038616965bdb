import Foundation
import Logging
import TestSupport
import Testing

@testable import Configuration
@testable import Filters
@testable import Records
@testable import Sinks
@testable import Tailing
@testable import Telemetry

@Suite("File server, without a process")
struct FileServerUnitTests {
    func server(_ paths: [String], consumer: RecordingConsumer, _ adjust: (inout InputConfig) -> Void = { _ in }) -> FileServer {
        var config = InputConfig()
        config.paths = paths
        config.checkpointPath = ""
        config.pollIntervalMs = 100
        config.checkpointIntervalMs = 100
        adjust(&config)
        return FileServer(config: config, consumer: consumer, counters: Counters(sinkNames: []), logger: Logger(label: "test"))
    }

    @Test("a 40 MiB backlog in one file does not starve another: the small file's lines come within the first round")
    func fairness() throws {
        let directory = TestDirectory()
        let line = String(repeating: "x", count: 99) + "\n"
        let big = String(repeating: line, count: 400_000)
        directory.write("a-big.log", big)
        directory.write("b-small.log", "small 1\nsmall 2\n")
        let consumer = RecordingConsumer()
        let server = server([directory.file("*.log")], consumer: consumer)
        try server.start(from: nil)
        var passes = 0
        while try server.cycle() == .budgetSpent { passes += 1 }
        let firstSmall = try #require(consumer.lines.firstIndex { $0.origin.hasSuffix("b-small.log") })
        // One turn is at most four reads of 256 KiB: the small file is read before the fifth MiB.
        #expect(firstSmall <= (FileServer.readsPerTurn * (256 << 10)) / 100 + 1, "first small line at \(firstSmall)")
        #expect(consumer.lines.count == 400_002)
        #expect(consumer.lines.filter { $0.origin.hasSuffix("a-big.log") }.count == 400_000)
        print("fairness: \(passes) passes over budget, first line of the small file at index \(firstSmall)")
    }

    @Test("files share one read buffer: a partial line of one survives reads of the others")
    func sharedBuffer() {
        let buffer = ReadBuffer(readSize: 64)
        let first = LineSplitter(maxLineBytes: 1_000, sharing: buffer)
        let second = LineSplitter(maxLineBytes: 1_000, sharing: buffer)
        var lines: [String] = []
        func feed(_ splitter: LineSplitter, _ text: String) {
            Array(text.utf8).withUnsafeBytes { raw in
                splitter.append(raw) { if case .complete(let bytes) = $0 { lines.append(String(decoding: bytes, as: UTF8.self)) } }
            }
        }
        feed(first, "one: the beginning of a line that")
        feed(second, "two: a whole line\ntwo: and the start of")
        #expect(first.pendingBytes == "one: the beginning of a line that".utf8.count)
        feed(first, String(repeating: " goes on", count: 20) + "\n")
        feed(second, " another\n")
        #expect(
            lines == [
                "two: a whole line", "one: the beginning of a line that" + String(repeating: " goes on", count: 20), "two: and the start of another",
            ])
        #expect(first.pendingBytes == 0 && second.pendingBytes == 0)
    }

    @Test("discovery: wildcards in any component, excludes on the whole path, and the directories to watch")
    func discovery() throws {
        let directory = TestDirectory()
        for name in ["pods/a/app.log", "pods/b/app.log", "pods/b/app.log.gz", "pods/c/other.txt", "pods/.hidden/app.log"] {
            try FileManager.default.createDirectory(
                atPath: directory.file((name as NSString).deletingLastPathComponent), withIntermediateDirectories: true)
            directory.write(name, "{}\n")
        }
        let discovery = Discovery(
            paths: [directory.file("pods/*/app.log*"), directory.file("missing/deeper/x.log")], excludes: ["*.gz"])
        let result = discovery.scan()
        #expect(result.candidates.map(\.path) == [directory.file("pods/a/app.log"), directory.file("pods/b/app.log")])
        #expect(result.directories.isSuperset(of: [directory.file("pods"), directory.file("pods/a"), directory.file("pods/b")]))
        // The deepest existing ancestor of a missing directory is watched, so that its creation is heard.
        #expect(result.directories.contains(directory.path))
        #expect(!result.directories.contains(directory.file("pods/.hidden")), "a leading dot is matched only explicitly")
        #expect(discovery.wants(directory.file("pods/z/app.log.1")))
        #expect(!discovery.wants(directory.file("pods/z/app.log.1.gz")))
    }

    @Test("a file renamed to a name the glob also matches keeps its identity and offset")
    func renameWithinGlob() throws {
        let directory = TestDirectory()
        directory.write("app.log", "1\n2\n")
        let consumer = RecordingConsumer()
        let server = server([directory.file("app.log*")], consumer: consumer)
        try server.start(from: nil)
        #expect(try server.cycle() == .caughtUp)
        #expect(rename(directory.file("app.log"), directory.file("app.log.1")) == 0)
        directory.append("app.log.1", "3\n")
        directory.write("app.log", "4\n")
        // Discovery runs at the next poll tick.
        try waitUntil("the renamed file's new line and the new file") {
            _ = try server.cycle()
            return consumer.lines.count >= 4
        }
        #expect(consumer.lines.map(\.text) == ["1", "2", "3", "4"])
        #expect(Set(consumer.lines.map(\.origin)) == [directory.file("app.log")])
        #expect(server.checkpoint.entries.map(\.offset) == [6, 2])
    }
}
