/// Grafana Loki's push API (`POST /loki/api/v1/push`, JSON): the records of a request grouped into
/// streams by their label set (static `labels` plus the values of `label_fields`), each entry
/// `["<ns>", "<the record as JSON text>"]` timed by the application's RFC 3339 timestamp, else by the
/// processing time. Loki refuses a stream without labels, so with none configured it is `job="log-sidecar"`.
/// The contract's classes fit Loki's answers as they are: 400 for entries it will not take (out of
/// order, too far behind, too old) splits them out to the dead-letter file with the reason; 429 and
/// 5xx are retried.
final class LokiFormat: HTTPFormat {
    private var reader: RecordReader
    private let staticLabels: [(name: [UInt8], value: [UInt8])]
    /// The record fields that label a stream, with the label name each becomes.
    private let labelFields: [(field: [UInt8], label: [UInt8])]
    private let timeKeys: [[UInt8]]
    /// Per request: the label sets in the order first seen, and each one's entries.
    private var streams: [[UInt8]: Int] = [:]
    private var entries: [[UInt8]] = []
    private var labelSets: [[UInt8]] = []
    private var labels: [(name: [UInt8], value: [UInt8])] = []

    init(config: HTTPSinkConfig, shape: RecordShape) {
        reader = RecordReader(shape: shape)
        var fixed = config.labels.map { (name: Array($0.name.utf8), value: Self.quoted($0.value)) }
        if fixed.isEmpty && config.labelFields.isEmpty { fixed = [(Array("job".utf8), Self.quoted("log-sidecar"))] }
        staticLabels = fixed
        // A field whose label name is taken (a static label, an earlier field) is left out: one value per name.
        var taken = Set(fixed.map(\.name))
        labelFields = config.labelFields.compactMap { field in
            let label = Array(Self.sanitizedLabel(field).utf8)
            return taken.insert(label).inserted ? (Array(field.utf8), label) : nil
        }
        timeKeys = (config.timeKey.isEmpty ? ["time", "ts", "timestamp", "@timestamp"] : [config.timeKey]).map { Array($0.utf8) }
    }

    var contentType: String { "application/json" }

    func requestURL(_ config: HTTPSinkConfig) -> String { HTTPFormats.url(config.url, defaultPath: "/loki/api/v1/push") }

    /// Loki's label names: `[a-zA-Z_][a-zA-Z0-9_]*`; anything else becomes `_` (`k8s.pod` → `k8s_pod`).
    static func sanitizedLabel(_ name: String) -> String {
        var out = ""
        for (index, scalar) in name.unicodeScalars.enumerated() {
            let letter = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || scalar == "_"
            let digit = scalar >= "0" && scalar <= "9"
            if index == 0 && digit { out.append("_") }
            out.unicodeScalars.append(letter || digit ? scalar : "_")
        }
        return out.isEmpty ? "_" : out
    }

    private static func quoted(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        JSONEscaper.appendQuoted(Array(text.utf8)[...], to: &out)
        return out
    }

    func encode(_ batch: RecordBatch, _ records: [Int], into body: inout [UInt8]) {
        streams.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        labelSets.removeAll(keepingCapacity: true)
        let now = RFC3339.now()
        batch.bytes.withUnsafeBytes { raw in
            for index in records {
                let record = UnsafeRawBufferPointer(rebasing: raw[batch.start(of: index)..<(batch.recordEnds[index] - 1)])
                let (set, time) = labelSet(record, now: now)
                let stream: Int
                if let known = streams[set] {
                    stream = known
                    entries[stream].append(UInt8(ascii: ","))
                } else {
                    stream = entries.count
                    streams[set] = stream
                    labelSets.append(set)
                    entries.append([])
                }
                entries[stream].append(contentsOf: "[\"\(time)\",".utf8)
                JSONEscaper.appendQuoted(record, to: &entries[stream])
                entries[stream].append(UInt8(ascii: "]"))
            }
        }
        body.append(contentsOf: #"{"streams":["#.utf8)
        for (stream, set) in labelSets.enumerated() {
            if stream > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: #"{"stream":"#.utf8)
            body.append(contentsOf: set)
            body.append(contentsOf: #","values":["#.utf8)
            body.append(contentsOf: entries[stream])
            body.append(contentsOf: "]}".utf8)
        }
        body.append(contentsOf: "]}".utf8)
    }

    /// The record's label set as a JSON object, names sorted (so equal sets are equal bytes), and its time.
    private func labelSet(_ record: UnsafeRawBufferPointer, now: UInt64) -> ([UInt8], UInt64) {
        labels.removeAll(keepingCapacity: true)
        labels.append(contentsOf: staticLabels)
        let readable = reader.read(record)
        var time: UInt64?
        if readable {
            for (field, label) in labelFields {
                guard let index = reader.first(of: [field], in: record) else { continue }
                let value = UnsafeRawBufferPointer(rebasing: record[reader.members[index].value])
                // An empty value is no label at all to Loki; a number or an object labels by its JSON text.
                if value.first == UInt8(ascii: "\"") {
                    if value.count > 2 { labels.append((label, Array(value))) }
                } else {
                    var quoted: [UInt8] = []
                    JSONEscaper.appendQuoted(value, to: &quoted)
                    labels.append((label, quoted))
                }
            }
            let members = reader.members
            func text(_ index: Int) -> UnsafeRawBufferPointer? {
                let bytes = UnsafeRawBufferPointer(rebasing: record[members[index].value])
                guard bytes.count >= 2, bytes.first == UInt8(ascii: "\"") else { return nil }
                return UnsafeRawBufferPointer(rebasing: bytes.dropFirst().dropLast())
            }
            time = reader.first(of: timeKeys, in: record).flatMap(text).flatMap(RFC3339.nanoseconds)
                ?? reader.field(.time).flatMap(text).flatMap(RFC3339.nanoseconds)
        }
        if labels.isEmpty { labels.append((Array("job".utf8), Self.quoted("log-sidecar"))) }
        labels.sort { $0.name.lexicographicallyPrecedes($1.name) }
        var set: [UInt8] = [UInt8(ascii: "{")]
        for (position, (name, value)) in labels.enumerated() {
            if position > 0 { set.append(UInt8(ascii: ",")) }
            set.append(UInt8(ascii: "\""))
            set.append(contentsOf: name)
            set.append(contentsOf: "\":".utf8)
            set.append(contentsOf: value)
        }
        set.append(UInt8(ascii: "}"))
        return (set, time ?? now)
    }
}
