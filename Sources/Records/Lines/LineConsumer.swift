import Telemetry

/// Where the file server hands its lines: the pipeline, which encodes them and delivers them to the sinks.
package protocol LineConsumer: AnyObject {
    /// The lines that follow come from `source` (a file, by its `enrich.file_key` value, or a stream
    /// of the exec-mode child), written in `format` and parsed into fields by `parser` when it has one;
    /// `origins` names them from where the next one starts.
    func begin(_ source: LineSource, format: InputFormat, parser: LineParser?, origins: OriginCounter)
    /// Takes one line into the batch being built.
    func consume(_ line: Line, partial: Bool)
    /// Takes every line `splitter` completed with the `bytes` just read, and counts both. A requirement,
    /// not only the extension's loop: a consumer in another module implements it with its own `consume`
    /// called directly, one dynamic call per read rather than one per line.
    func takeLines(from splitter: LineSplitter, read bytes: Int, counters: Counters)
    /// Delivers the batch; returns when every sink has accepted it, or false when delivery was given up
    /// (shutdown deadline), in which case nothing of the batch counts as acknowledged.
    func deliver() -> Bool
}

extension LineConsumer {
    package func takeLines(from splitter: LineSplitter, read bytes: Int, counters: Counters) {
        var lines = 0
        splitter.forEachLine { line in
            lines += 1
            consume(line, partial: false)
        }
        counters.add(counters.bytesRead, bytes)
        counters.add(counters.linesRead, lines)
    }
}
