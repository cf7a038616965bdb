/// Writes each batch to standard output with one `write`; a reader that stops reading makes us wait
/// (the file on disk is the buffer), never drop.
public final class StdoutSink: Sink {
    public let name: String

    public init(name: String) { self.name = name }

    public func write(_ batch: RecordBatch, from offset: Int) throws(SinkFailure) {
        try DescriptorWriter.write(1, batch, from: offset, to: batch.bytes.count)
    }
}

extension StdoutSinkConfig: SinkMaking {
    func makeSink(name: String, context: SinkContext) -> any Sink { StdoutSink(name: name) }
}
