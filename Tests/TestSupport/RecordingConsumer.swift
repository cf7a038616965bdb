import Records
import Telemetry

/// Takes the lines the file server (or the child's pipes) hand out, in memory, with the file (or
/// stream) each came from.
package final class RecordingConsumer: LineConsumer {
    package var origin = ""
    package var lines: [(origin: String, text: String)] = []
    package var partials: [String] = []
    package var deliveries = 0
    /// Called with each complete line as it is taken: lets a test change a file in the middle of a
    /// read pass, as a rotation racing the reader does.
    package var onConsume: ((String) -> Void)?
    /// Each complete line's origin, as the pipeline would name its record.
    package var origins: [RecordOrigin] = []
    private var counter: OriginCounter?

    package init() {}

    package func begin(_ source: LineSource, format: InputFormat, parser: LineParser?, origins: OriginCounter) {
        counter = origins
        switch source {
        case .file(let origin): self.origin = origin
        case .stream(let stream): origin = stream.rawValue
        case .journal: origin = "journal"
        }
    }

    package func consume(_ line: Line, partial: Bool) {
        if let origin = counter?.take(lineBytes: line.byteCount + (partial ? 0 : 1)) { origins.append(origin) }
        guard case .complete(let bytes) = line else { return }
        let text = String(decoding: bytes, as: UTF8.self)
        lines.append((origin, text))
        if partial { partials.append(text) }
        onConsume?(text)
    }

    package func deliver() -> Bool {
        deliveries += 1
        return true
    }
}
