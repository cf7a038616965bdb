import Foundation
import Testing

@testable import LogSidecar
@testable import Sinks
@testable import SystemSupport
@testable import Tailing

/// The checkpoint thread alone: the order of its work (the sinks' syncs, then the checkpoint), what it
/// reports, and that a job in hand is finished before it stops. The daemon's durability under kill -9
/// and a failing fsync is tested end to end (Faults/DurabilityTests.swift).
@Suite("Checkpoint writer")
struct CheckpointWriterTests {
    let directory = NSTemporaryDirectory() + "checkpoint-writer-\(UUID().uuidString)"

    func checkpoint(_ cursor: String) -> Checkpoint { Checkpoint(entries: [], journal: .init(cursor: cursor, realtimeUsec: 1)) }

    @Test("a job syncs, writes the checkpoint and wakes the loop; the outcome is taken once")
    func saves() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = open(directory + "/out", O_WRONLY | O_CREAT, 0o644)
        defer { close(output) }
        let woken = Woken()
        let writer = CheckpointWriter(wake: { woken.count() })
        let sync = try #require(SinkSync(duplicating: output, sink: "file"))
        writer.submit(.init(syncs: [sync], checkpoint: checkpoint("c1"), path: directory + "/checkpoint.json"))
        guard case .saved(let saved) = writer.finish() else {
            Issue.record("not saved")
            return
        }
        #expect(saved.journal?.cursor == "c1")
        #expect(writer.takeOutcome() == nil)
        #expect(!writer.isBusy)
        let written = try String(contentsOfFile: directory + "/checkpoint.json", encoding: .utf8)
        #expect(written.contains("\"c1\""))
        try waitUntil("the loop to be woken") { woken.value == 1 }
        writer.stop()
    }

    @Test("a checkpoint that cannot be written is reported with the error; the thread serves the next job")
    func notSaved() throws {
        let writer = CheckpointWriter(wake: {})
        writer.submit(.init(syncs: [], checkpoint: checkpoint("c1"), path: directory + "/missing/checkpoint.json"))
        guard case .notSaved(let kept, let error) = writer.finish() else {
            Issue.record("expected a failure")
            return
        }
        #expect(kept.journal?.cursor == "c1" && error.errno == ENOENT)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        writer.submit(.init(syncs: [], checkpoint: checkpoint("c2"), path: directory + "/checkpoint.json"))
        guard case .saved = writer.finish() else {
            Issue.record("not saved")
            return
        }
        writer.stop()
    }

    @Test("stop finishes the job in hand first")
    func stopFinishes() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = CheckpointWriter(wake: {})
        writer.submit(.init(syncs: [], checkpoint: checkpoint("last"), path: directory + "/checkpoint.json"))
        writer.stop()
        #expect(FileManager.default.fileExists(atPath: directory + "/checkpoint.json"))
        guard case .saved = writer.takeOutcome() else {
            Issue.record("not saved")
            return
        }
    }

    @Test("checkpoint ticks keep the interval's grid when a pass ends late; a tick missed whole is skipped")
    func ticks() {
        // Due at 1,000, seen at 1,460 (a pass waited for a slow sink): the next is due at 2,000, not 2,460.
        var due: Int64 = 1_000
        var seen: [Int64] = []
        for late: Int64 in [460, 300, 0, 999] {
            let now = due + late
            seen.append(now)
            due = ReadingLoop.nextCheckpointMs(after: due, now: now, intervalMs: 1_000)
        }
        #expect(seen == [1_460, 2_300, 3_000, 4_999])
        #expect(due == 5_000)
        // Seen more than an interval late: no burst of ticks to catch up, one interval from now.
        #expect(ReadingLoop.nextCheckpointMs(after: 5_000, now: 7_500, intervalMs: 1_000) == 8_500)
        #expect(ReadingLoop.nextCheckpointMs(after: 5_000, now: 6_000, intervalMs: 1_000) == 7_000)
    }
}

private final class Woken: @unchecked Sendable {
    private let lock = NSLock()
    private var counted = 0
    func count() { lock.withLock { counted += 1 } }
    var value: Int { lock.withLock { counted } }
}
