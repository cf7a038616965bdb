import Foundation
import Testing

/// Vector's file-watcher tests run random sequences of actions against a model; this is the same idea
/// against the real daemon: writes of random size, pauses, and every kind of rotation in random order,
/// each rotation of a file the daemon has already opened.
@Suite("Random rotation sequences")
struct RandomRotationTests {
    @Test("a seeded random mix of writes, pauses and rotations: every line exactly once, in order", arguments: [11, 29, 47, 83, 101, 131])
    func randomSequence(seed: UInt64) throws {
        let scenario = Scenario("random\(seed)")
        let daemon = try scenario.start()
        let writer = LogWriter(path: scenario.input)
        writer.openIfNeeded()  // the application creates its file before anything rotates it
        var generator = RecordGenerator(seed: seed)
        let kinds: [LogWriter.Rotation] = [.renameAndCreate, .copyTruncate, .deleteAndRecreate]
        var actions: [String] = []
        for _ in 0..<60 {
            switch generator.next(10) {
            case 0, 1:
                let kind = kinds[generator.next(kinds.count)]
                actions.append("\(kind)")
                // A file created, written and rotated away before any tailer looked at it is lost to every
                // tailer (a deleted or truncated file nobody opened): rotate only what the daemon follows.
                // Writes after the rotation still race with its detection.
                try scenario.waitForShipped(writer.written)
                writer.rotate(kind)
            case 2:
                let pause = generator.next(200)
                actions.append("pause \(pause) ms")
                Thread.sleep(forTimeInterval: Double(pause) / 1000)  // the action itself: the application is quiet
            default:
                let count = 1 + generator.next(800)
                actions.append("write \(count)")
                writer.write(count: count)
            }
        }
        try scenario.waitForShipped(writer.written)
        #expect(try daemon.stop() == 0)
        let audit = Output.audit(scenario.shipped, expected: writer.written)
        #expect(
            audit.missing.isEmpty && audit.duplicates == 0, "missing \(audit.missing.prefix(5)), duplicates \(audit.duplicates); actions: \(actions)")
        #expect(scenario.shipped == Array(0..<writer.written), "actions: \(actions)")
    }
}
