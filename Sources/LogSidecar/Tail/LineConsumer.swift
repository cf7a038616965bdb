/// Where the file server hands its lines: the pipeline, which encodes them and delivers them to the sinks.
public protocol LineConsumer: AnyObject {
    /// The lines that follow come from the file found under `origin` (its `enrich.file_key` value),
    /// written in `format`.
    func beginFile(_ origin: String, format: InputFormat)
    /// Takes one line into the batch being built.
    func consume(_ line: Line, partial: Bool)
    /// Delivers the batch; returns when every sink has accepted it, or false when delivery was given up
    /// (shutdown deadline), in which case nothing of the batch counts as acknowledged.
    func deliver() -> Bool
}
