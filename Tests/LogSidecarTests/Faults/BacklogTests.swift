import Foundation
import Testing

/// A backlog never starves the loop's other duties: each pass reads within a budget.
@Suite("Faults: backlog")
struct BacklogTests {
    @Test(
        "a writer faster than a slow stdout reader for 10 s: the checkpoint advances every interval; kill -9 repeats what the last two intervals shipped"
    )
    func slowReader() throws {
        let scenario = Scenario()
        // A 1 s interval: a pass (at most 500 ms here, plus the write it waits for) and a batch through
        // the slow reader (about 250 ms) fit inside the 2 s the contract allows between two checkpoints.
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
        let sampler = CheckpointSampler(path: scenario.checkpoint)
        writer.run(rate: 20_000, seconds: 10, rotation: .none)
        let changes = try sampler.stop()
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try waitUntil("the reader to reach the end of the pipe") { reader.isFinished }
        let gaps = zip(changes, changes.dropFirst()).map { $1.0.timeIntervalSince($0.0) }
        let meanGap = changes.count < 2 ? 99 : changes.last!.0.timeIntervalSince(changes[0].0) / Double(changes.count - 1)
        #expect(changes.count >= 6, "the checkpoint changed \(changes.count) times in 10 s")
        #expect((gaps.max() ?? 99) <= 2 * Double(interval) / 1000, "longest gap between checkpoints \(gaps.max() ?? 99) s")
        // Ticks keep the interval's grid: a pass that ends late does not push the ones after it back.
        #expect(meanGap <= 1.2 * Double(interval) / 1000, "mean gap between checkpoints \(meanGap) s")

        // The restart ships the rest; what it repeats is what was shipped after the checkpoint before
        // the last one, whose position the last one may have had to wait for (it is written once every
        // sink acknowledged it), plus one batch: a batch is flushed once it holds 256 KiB, so up to two
        // reads of 256 KiB.
        let output = received.lines
        _ = FileManager.default.createFile(atPath: scenario.output, contents: Data((output.joined(separator: "\n") + "\n").utf8))
        let second = try scenario.start()
        try waitUntil("every line shipped at least once") { Set(scenario.shipped).count == writer.written }
        #expect(try second.stop() == 0)
        let audit = Output.audit(scenario.shipped, expected: writer.written)
        #expect(audit.missing.isEmpty)
        let since = changes.count >= 2 ? changes[changes.count - 2].0 : .distantPast
        let bound = received.count(since: since) + 2 * 256 * 1024 / LogWriter.line(writer.written).utf8.count
        #expect(audit.duplicates <= bound, "\(audit.duplicates) repeated, bound \(bound)")
        print(
            "backlog: \(changes.count) checkpoints in 10 s, mean gap \(meanGap) s, longest \(gaps.max() ?? 0) s, \(writer.written) written, \(audit.duplicates) repeated after kill -9, bound \(bound)"
        )
    }
}

/// Lines received through a pipe, from a reader thread, with when each chunk came.
final class ReceivedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    /// Each chunk's arrival and the lines received up to it.
    private var arrivals: [(Date, Int)] = []
    private var total = 0

    func append(_ chunk: Data) {
        let lines = chunk.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        lock.withLock {
            data.append(chunk)
            total += lines
            arrivals.append((Date(), total))
        }
    }

    var count: Int { lock.withLock { total } }

    /// Lines received after `date`.
    func count(since date: Date) -> Int {
        lock.withLock { total - (arrivals.last { $0.0 <= date }?.1 ?? 0) }
    }

    var lines: [String] {
        lock.withLock { String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init) }
    }
}

/// When the checkpoint's offset changed, sampled every 20 ms on a thread of its own until `stop`.
final class CheckpointSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [(Date, Int)] = []
    private var stopping = false
    private var thread: Thread?

    init(path: String) {
        let thread = Thread { [self] in
            while !lock.withLock({ stopping }) {
                if let offset = Output.checkpointOffset(path) {
                    lock.withLock { if offset != samples.last?.1 { samples.append((Date(), offset)) } }
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        self.thread = thread
        thread.start()
    }

    /// Ends the sampling; the changes seen.
    func stop() throws -> [(Date, Int)] {
        lock.withLock { stopping = true }
        try waitUntil("the checkpoint sampler to stop") { thread?.isFinished ?? true }
        return lock.withLock { samples }
    }
}
