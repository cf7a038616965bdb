import Configuration
import Records
import Telemetry

/// Writes each batch to standard output with one `write`; a reader that stops reading makes us wait
/// (the file on disk is the buffer), never drop. A catch-up's large batches are written behind, on the
/// thread `stdout-sink` (`BatchWriter`).
package final class StdoutSink: Sink {
    package let name: String
    private let writer: BatchWriter

    /// `counters`: where the records written are counted, as they are written; nil: the fan-out counts
    /// them (tests).
    package init(name: String, counters: SinkCounters? = nil) {
        self.name = name
        writer = BatchWriter(threadName: "stdout-sink", counters: counters)
    }

    deinit { close() }

    package var writesBehind: Bool { true }

    package var countsOwnRecords: Bool { writer.counters != nil }

    package var unacknowledgedBytes: Int { writer.unacknowledgedBytes }

    package func write(_ batch: RecordBatch, from offset: Int) throws(SinkFailure) {
        try writer.write(batch, from: offset, Self.writeNow)
    }

    package func settle() throws(SinkFailure) { try writer.catchUp(accepted: 0, Self.writeNow) }

    package func flush() throws(SinkFailure) { try settle() }

    package func close() { writer.stop() }

    private static func writeNow(_ batch: RecordBatch, from offset: Int) throws(SinkFailure) {
        try DescriptorWriter.write(1, batch, from: offset, to: batch.bytes.count)
    }
}

extension StdoutSinkConfig: SinkMaking {
    package func makeSink(name: String, context: SinkContext) -> any Sink { StdoutSink(name: name, counters: context.counters) }
}
