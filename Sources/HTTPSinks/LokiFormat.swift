import Configuration
import Records

/// Grafana Loki's push API (`POST /loki/api/v1/push`, JSON): the records of a request grouped into
/// streams by their label set (static `labels` plus the values of `label_fields`), each entry
/// `["<ns>", "<the record as JSON text>"]` timed by the application's RFC 3339 timestamp, else by the
/// processing time. Loki refuses a stream without labels, so with none configured it is `job="log-sidecar"`.
/// The contract's classes fit Loki's answers as they are: 400 for entries it will not take (out of
/// order, too far behind, too old) splits them out to the dead-letter file with the reason; 429 and
/// 5xx are retried.
final class LokiFormat: HTTPFormat {
    /// One label of every stream, in name order: a static value, or a record field's.
    private enum Label {
        case fixed(name: [UInt8], value: [UInt8])
        case field(name: [UInt8], key: [UInt8])
    }

    private var reader: RecordReader
    private let labels: [Label]
    /// The time keys in the order they are tried, in one table (the reader's wanted keys).
    private let timeKeys: KeyTable
    /// Per request: each label set (a JSON object) in the order first seen, streams by their label
    /// set's hash (collisions told apart by the bytes), and each record's stream and time.
    private var labelSets: [[UInt8]] = []
    private var streams: [UInt64: [Int]] = [:]
    private var recordStreams: [Int] = []
    private var recordTimes: [UInt64] = []
    /// Positions in the request grouped by stream, and where each stream's run starts.
    private var grouped: [Int] = []
    private var runStarts: [Int] = []
    private var labelSet: [UInt8] = []
    /// The label set of the stream the last record went to, which most records of a batch share (one
    /// source, the same labels): a record whose set is the same bytes goes to it without a hash or a
    /// lookup.
    private var lastLabelSet: [UInt8] = []
    /// No label comes from a record's field: every record has the one label set, built in `init`.
    private let labelsAreFixed: Bool

    init(options: LokiOptions, shape: RecordShape) {
        let timeKeys = RecordTimeKeys.keys(configured: options.timeKey)
        reader = RecordReader(shape: shape, wanted: timeKeys)
        reader.timeFormat = options.timeFormat
        self.timeKeys = KeyTable(timeKeys)
        var labels = options.labels.map { Label.fixed(name: Array($0.name.utf8), value: Array(JSONValue.quoted($0.value).utf8)) }
        // A field whose label name is taken (a static label, an earlier field) is left out: one value per name.
        var taken = Set(options.labels.map { Array($0.name.utf8) })
        for field in options.labelFields {
            let name = Array(HTTPSinkConfig.lokiLabel(field).utf8)
            if taken.insert(name).inserted { labels.append(.field(name: name, key: Array(field.utf8))) }
        }
        self.labels = labels.sorted { Self.name(of: $0).lexicographicallyPrecedes(Self.name(of: $1)) }
        labelsAreFixed = labels.allSatisfy {
            if case .fixed = $0 { return true }
            return false
        }
        if labelsAreFixed { buildLabelSet(UnsafeRawBufferPointer(start: nil, count: 0), readable: false) }
    }

    private static func name(of label: Label) -> [UInt8] {
        switch label {
        case .fixed(let name, _), .field(let name, _): return name
        }
    }

    var contentType: String { "application/json" }
    var readsMembers: Bool { true }

    func takeTimeParseErrors() -> Int { reader.takeTimeParseErrors() }

    func requestURL(_ config: HTTPSinkConfig) -> String { HTTPFormats.url(config.url, defaultPath: "/loki/api/v1/push") }

    /// Two passes: the label sets first, then each stream's entries escaped straight into the body.
    func encode(_ batch: RecordBatch, _ records: [Int], into body: GrowableBytes) {
        labelSets.removeAll(keepingCapacity: true)
        streams.removeAll(keepingCapacity: true)
        recordStreams.removeAll(keepingCapacity: true)
        recordTimes.removeAll(keepingCapacity: true)
        let now = RFC3339.now()
        var lastStream = -1
        batch.bytes.withUnsafeBytes { raw in
            batch.members.withUnsafeBufferPointer { allMembers in
                for index in records {
                    let time = readLabelSet(batch.record(index, in: raw), members: batch.members(of: index, in: allMembers)) ?? now
                    recordTimes.append(time)
                    if lastStream >= 0 && (labelsAreFixed || labelSetRepeats()) {
                        recordStreams.append(lastStream)
                        continue
                    }
                    // A mutable access reaches the array in place; a read retained and released it.
                    let hash = labelSet.withUnsafeMutableBytes { FileIdentity.fnv1a(UnsafeRawBufferPointer($0)) }
                    if let known = streams[hash]?.first(where: { labelSets[$0] == labelSet }) {
                        lastStream = known
                    } else {
                        streams[hash, default: []].append(labelSets.count)
                        lastStream = labelSets.count
                        labelSets.append(labelSet)
                    }
                    recordStreams.append(lastStream)
                    lastLabelSet.removeAll(keepingCapacity: true)
                    lastLabelSet.append(contentsOf: labelSet)
                }
            }
        }
        group()
        var body = body
        body.appendLiteral(#"{"streams":["#)
        var times = NanosecondDigits()
        batch.bytes.withUnsafeBytes { raw in
            for (stream, set) in labelSets.enumerated() {
                if stream > 0 { body.append(UInt8(ascii: ",")) }
                body.appendLiteral(#"{"stream":"#)
                body.appendBytes(set)
                body.appendLiteral(#","values":["#)
                for position in grouped[runStarts[stream]..<runStarts[stream + 1]] {
                    let index = records[position]
                    if position != grouped[runStarts[stream]] { body.append(UInt8(ascii: ",")) }
                    body.appendLiteral(#"[""#)
                    times.append(recordTimes[position], to: &body)
                    body.appendLiteral(#"","#)
                    JSONEscaper.appendQuoted(batch.record(index, in: raw), to: &body)
                    body.append(UInt8(ascii: "]"))
                }
                body.appendLiteral("]}")
            }
        }
        body.appendLiteral("]}")
    }

    /// Whether `labelSet` is `lastLabelSet`'s bytes (both reached in place: a read of either array
    /// retained and released it).
    private func labelSetRepeats() -> Bool {
        labelSet.withUnsafeMutableBytes { set in
            lastLabelSet.withUnsafeMutableBytes { last in
                guard set.count == last.count else { return false }
                guard let left = set.baseAddress, let right = last.baseAddress else { return true }
                return ShortCompare.equal(left, right, set.count)
            }
        }
    }

    /// Orders the request's positions by stream, each stream's in request order (a counting sort).
    private func group() {
        runStarts.removeAll(keepingCapacity: true)
        runStarts.append(contentsOf: repeatElement(0, count: labelSets.count + 1))
        for stream in recordStreams { runStarts[stream + 1] += 1 }
        for stream in 0..<labelSets.count { runStarts[stream + 1] += runStarts[stream] }
        grouped.removeAll(keepingCapacity: true)
        grouped.append(contentsOf: repeatElement(0, count: recordStreams.count))
        var next = runStarts
        for (position, stream) in recordStreams.enumerated() {
            grouped[next[stream]] = position
            next[stream] += 1
        }
    }

    /// Builds the record's label set in `labelSet` (once, in `init`, when every label is fixed) and
    /// returns the application's timestamp, else the processing time, when it has one.
    private func readLabelSet(_ record: UnsafeRawBufferPointer, members: UnsafeBufferPointer<PackedMember>?) -> UInt64? {
        let readable = reader.read(record, members: members)
        if !labelsAreFixed { buildLabelSet(record, readable: readable) }
        guard readable else { return nil }
        let time = reader.first(of: timeKeys, in: record)
        return reader.time(time, in: record) ?? reader.processingTime(reader.timeMember, in: record)
    }

    /// The label set of `record` (read by `reader` when `readable`) in `labelSet`: a JSON object, names
    /// in order, so equal sets are equal bytes.
    private func buildLabelSet(_ record: UnsafeRawBufferPointer, readable: Bool) {
        labelSet.removeAll(keepingCapacity: true)
        labelSet.append(UInt8(ascii: "{"))
        for label in labels {
            switch label {
            case .fixed(let name, let value):
                appendLabel(name) { $0.append(contentsOf: value) }
            case .field(let name, let key):
                guard readable, let index = reader.first(named: key, in: record) else { continue }
                let value = UnsafeRawBufferPointer(rebasing: record[reader.members[index].value])
                // An empty value is no label at all to Loki; a number or an object labels by its JSON text.
                if value.first == UInt8(ascii: "\"") {
                    if value.count > 2 { appendLabel(name) { $0.appendBytes(value) } }
                } else {
                    appendLabel(name) { JSONEscaper.appendQuoted(value, to: &$0) }
                }
            }
        }
        if labelSet.count == 1 { labelSet.appendLiteral(#""job":"log-sidecar""#) }
        labelSet.append(UInt8(ascii: "}"))
    }

    private func appendLabel(_ name: [UInt8], value: (inout [UInt8]) -> Void) {
        if labelSet.count > 1 { labelSet.append(UInt8(ascii: ",")) }
        labelSet.append(UInt8(ascii: "\""))
        labelSet.append(contentsOf: name)
        labelSet.appendLiteral(#"":"#)
        value(&labelSet)
    }
}

extension LokiOptions: HTTPFormatMaking {
    func makeFormat(shape: RecordShape) -> any HTTPFormat { LokiFormat(options: self, shape: shape) }
}
