import Configuration
import Records

/// Writes each batch to standard output with one `write`; a reader that stops reading makes us wait
/// (the file on disk is the buffer), never drop.
package final class StdoutSink: Sink {
    package let name: String

    package init(name: String) { self.name = name }

    package func write(_ batch: RecordBatch, from offset: Int) throws(SinkFailure) {
        try DescriptorWriter.write(1, batch, from: offset, to: batch.bytes.count)
    }
}

extension StdoutSinkConfig: SinkMaking {
    package func makeSink(name: String, context: SinkContext) -> any Sink { StdoutSink(name: name) }
}
