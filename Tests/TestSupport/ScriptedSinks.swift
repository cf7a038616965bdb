import Records
import Sinks

/// Accepts what its script allows, then fails as told; records every byte it accepted.
package final class ScriptedSink: Sink {
    package let name: String
    package var failures: [SinkFailure?] = []
    package var flushFailures: [SinkFailure?] = []
    package var received: [UInt8] = []
    package var attempts = 0
    package var reopens = 0

    package init(name: String = "scripted") { self.name = name }

    package func write(_ batch: RecordBatch, from offset: Int) throws(SinkFailure) {
        attempts += 1
        if let failure = failures.isEmpty ? nil : failures.removeFirst() {
            received += batch.bytes[offset..<failure.accepted]
            throw failure
        }
        received += batch.bytes[offset...]
    }

    package func flush() throws(SinkFailure) {
        if let failure = flushFailures.isEmpty ? nil : flushFailures.removeFirst() { throw failure }
    }

    package func reopen() { reopens += 1 }
}

/// Holds what it is given until the test says it was acknowledged, as an HTTP sink does.
package final class HoldingSink: Sink {
    package let name = "holding"
    package var held = 0
    package init() {}
    package func write(_ batch: RecordBatch, from offset: Int) throws(SinkFailure) { held += batch.bytes.count - offset }
    package var unacknowledgedBytes: Int { held }
    package var countsOwnRecords: Bool { true }
}

/// Takes everything and keeps nothing.
package final class DiscardSink: Sink {
    package let name: String
    package init(name: String = "discard") { self.name = name }
    package func write(_ batch: RecordBatch, from offset: Int) throws(SinkFailure) {}
}
