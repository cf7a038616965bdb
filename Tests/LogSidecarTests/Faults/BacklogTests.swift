import Foundation
import Testing

/// A backlog never starves the loop's other duties: each pass reads within a budget.
@Suite("Faults: backlog")
struct BacklogTests {
    @Test("a writer faster than a slow stdout reader for 10 s: the checkpoint advances every 2 intervals; kill -9 repeats about one interval")
    func slowReader() throws {
        let scenario = Scenario()
        // A 1 s interval: a pass (at most 100 ms here) and a batch through the slow reader (about 250 ms)
        // fit well inside the 2 s the contract allows between two checkpoints.
        let interval = 1_000
        let writer = LogWriter(path: scenario.input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonProcess.binary)
        process.arguments = scenario.arguments(["--input-checkpoint-interval-ms", "\(interval)"])
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()

        // The reader takes about 1 MB/s; the writer writes about twice that.
        let received = ReceivedLines()
        let reader = Thread {
            let handle = pipe.fileHandleForReading
            while true {
                let chunk = handle.readData(ofLength: 32 * 1024)
                if chunk.isEmpty { return }
                received.append(chunk)
                Thread.sleep(forTimeInterval: 0.03)
            }
        }
        reader.start()
        let sampler = CheckpointSampler(path: scenario.checkpoint, seconds: 10.5)
        let started = Date()
        writer.run(rate: 20_000, seconds: 10, rotation: .none)
        try waitUntil("the sampler", seconds: 5) { sampler.isFinished }
        let changes = sampler.changes
        let gaps = zip(changes, changes.dropFirst()).map { $1.0.timeIntervalSince($0.0) }
        let readerRate = Double(received.count) / Date().timeIntervalSince(started)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try waitUntil("the reader to reach the end of the pipe") { reader.isFinished }
        #expect(changes.count >= 6, "the checkpoint changed \(changes.count) times in 10 s")
        #expect((gaps.max() ?? 99) <= 2 * Double(interval) / 1000, "longest gap between checkpoints \(gaps.max() ?? 99) s")

        // The restart ships the rest; what it repeats is what the last interval had shipped.
        let output = received.lines
        _ = FileManager.default.createFile(atPath: scenario.output, contents: Data((output.joined(separator: "\n") + "\n").utf8))
        let second = try scenario.start()
        try waitUntil("every line shipped at least once") { Set(scenario.shipped).count == writer.written }
        #expect(try second.stop() == 0)
        let audit = Output.audit(scenario.shipped, expected: writer.written)
        #expect(audit.missing.isEmpty)
        // One interval of the reader's pace, twice for sampling, plus one 256 KiB read in flight.
        let bound = Int(readerRate * 2 * Double(interval) / 1000) + 256 * 1024 / 100
        #expect(audit.duplicates <= bound, "\(audit.duplicates) repeated, bound \(bound)")
        print(
            "backlog: reader \(Int(readerRate)) lines/s, \(changes.count) checkpoints in 10 s, longest gap \(gaps.max() ?? 0) s, \(writer.written) written, \(audit.duplicates) repeated after kill -9"
        )
    }
}

/// Lines received through a pipe, from a reader thread.
final class ReceivedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) { lock.withLock { data.append(chunk) } }

    var count: Int { lock.withLock { data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } } }

    var lines: [String] {
        lock.withLock { String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init) }
    }
}

/// When the checkpoint's offset changed, sampled every 20 ms on a thread of its own.
final class CheckpointSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [(Date, Int)] = []
    private var thread: Thread?

    init(path: String, seconds: Double) {
        let thread = Thread { [self] in
            let start = Date()
            while Date().timeIntervalSince(start) < seconds {
                if let offset = Output.checkpointOffset(path) {
                    lock.withLock { if offset != samples.last?.1 { samples.append((Date(), offset)) } }
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        self.thread = thread
        thread.start()
    }

    var isFinished: Bool { thread?.isFinished ?? true }
    var changes: [(Date, Int)] { lock.withLock { samples } }
}
