import Configuration
import Records

/// OTLP/HTTP (opentelemetry-proto's `ExportLogsServiceRequest`), in its JSON encoding or in protobuf:
/// one `resourceLogs` per request, its resource made of the enrichment fields, one `logRecord` per
/// record (docs/sinks.md, "OpenTelemetry"). This part finds what each member of a record becomes; the two
/// writers (+JSON, +Protobuf) put it on the wire. Only 429, 502, 503 and 504 are retried, as OTLP allows.
package final class OTLPFormat: HTTPFormat {
    let shape: RecordShape
    var reader: RecordReader
    let encoding: OTLPEncoding
    /// JSON: `{"resourceLogs":[{"resource":{…},"scopeLogs":[{"scope":{…},"logRecords":[`, built once.
    let jsonHead: [UInt8]
    /// Protobuf: the `Resource` message and the scope, built once.
    let protobufResource: [UInt8]
    /// Every key with a role (message, level, time, ids), each with its role: message keys and time
    /// keys ranked by their order. The reader's wanted keys: the rest are attributes without a comparison.
    private let roleTable: KeyTable
    private let rolesOfKeys: [RoleKey]

    private enum RoleKey {
        case message(rank: Int)
        case level
        case time(rank: Int)
        case trace
        case span
    }
    /// The last processing time read and its nanoseconds: a batch's records share one.
    /// In bytes of their own, not arrays: an array read from the format was retained and released,
    /// twice a record. A text longer than `InlineBytes.capacity` is read each time.
    var lastObserved: (text: InlineBytes, value: UInt64) = (InlineBytes(), 0)
    /// The JSON writer's `"observedTimeUnixNano":"<its nanoseconds>"` (`observedPieceCount` bytes;
    /// none kept: 0), in memory the format owns, room for a multiple of 16: appended from there in
    /// one copy (`ByteOutput.appendPadded`).
    private let observedPiece = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 16)
    private var observedPieceCount = 0
    private static let observedName: StaticString = #""observedTimeUnixNano":""#
    private static let traceKey = Array("trace_id".utf8)
    private static let spanKey = Array("span_id".utf8)

    init(options: OTLPOptions, shape: RecordShape) {
        self.shape = shape
        let messageKeys = options.messageKey.isEmpty ? [Array("msg".utf8), Array("message".utf8)] : [Array(options.messageKey.utf8)]
        let levelKey = Array(options.levelKey.utf8)
        let timeKeys = RecordTimeKeys.keys(configured: options.timeKey)
        let keys = messageKeys + timeKeys + [levelKey, Self.traceKey, Self.spanKey]
        reader = RecordReader(shape: shape, wanted: keys)
        reader.timeFormat = options.timeFormat
        roleTable = KeyTable(keys)
        rolesOfKeys = messageKeys.indices.map { .message(rank: $0) } + timeKeys.indices.map { .time(rank: $0) } + [.level, .trace, .span]
        encoding = options.encoding
        jsonHead = encoding == .json ? Self.jsonHead(shape) : []
        protobufResource = encoding == .protobuf ? Self.protobufResource(shape) : []
    }

    deinit { observedPiece.deallocate() }

    func takeTimeParseErrors() -> Int { reader.takeTimeParseErrors() }

    var contentType: String { encoding == .json ? "application/json" : "application/x-protobuf" }
    var readsMembers: Bool { true }

    func requestURL(_ config: HTTPSinkConfig) -> String { HTTPFormats.url(config.url, defaultPath: "/v1/logs") }

    func encode(_ batch: RecordBatch, _ records: [Int], into body: GrowableBytes) {
        switch encoding {
        case .json: encodeJSON(batch, records, into: body)
        case .protobuf: encodeProtobuf(batch, records, into: body)
        }
    }

    /// The members OTLP lifts out of the attributes, found in one pass over the keys.
    /// Each role's member index is kept in 32 bits, -1 for none: the roles are copied several times a
    /// record (into the memo, a template's facts, the writer's), as 32 bytes where five optionals of
    /// `Int` and two ranks were 104. (A member past the 2^31st has no role.)
    struct Roles {
        private var indices: (message: Int32, level: Int32, time: Int32, trace: Int32, span: Int32) = (-1, -1, -1, -1, -1)
        var message: Int? {
            get { Self.index(indices.message) }
            set { indices.message = Self.stored(newValue) }
        }
        var level: Int? {
            get { Self.index(indices.level) }
            set { indices.level = Self.stored(newValue) }
        }
        var time: Int? {
            get { Self.index(indices.time) }
            set { indices.time = Self.stored(newValue) }
        }
        var trace: Int? {
            get { Self.index(indices.trace) }
            set { indices.trace = Self.stored(newValue) }
        }
        var span: Int? {
            get { Self.index(indices.span) }
            set { indices.span = Self.stored(newValue) }
        }
        /// The bits of the members below the 64th that are lifted out of the attributes.
        var lifted: UInt64 = 0

        /// Whether the member at `index` is lifted out of the attributes (the message, the level, the
        /// ids): one bit's test for most, where four comparisons of optionals cost some twenty
        /// instructions a member.
        @inline(__always)
        func isLifted(_ index: Int) -> Bool {
            guard index >= 64 else { return lifted & (1 &<< UInt64(index)) != 0 }
            return index == message || index == level || index == trace || index == span
        }

        @inline(__always)
        private static func index(_ stored: Int32) -> Int? { stored < 0 ? nil : Int(stored) }

        @inline(__always)
        private static func stored(_ index: Int?) -> Int32 { index.flatMap { Int32(exactly: $0) } ?? -1 }

        fileprivate static func bit(_ index: Int?) -> UInt64 {
            guard let index, index < 64 else { return 0 }
            return 1 &<< UInt64(index)
        }
    }

    /// The roles found for the last record whose keys decided them alone, and those keys: most records
    /// of a batch have the same keys at the same places (`roles`).
    private(set) var lastRoles = RolesMemo()
    /// The JSON writer's severity numbers by level text.
    let severityMemo = SeverityMemo()
    /// What the JSON writer derives from the layouts of the last records (`OTLPTemplates`).
    let templates = OTLPTemplates()

    func roles(_ record: UnsafeRawBufferPointer) -> Roles {
        // Taken out of the reader once: each access through the class copied the whole reader.
        let members = reader.members
        let wanted = reader.wantedBits
        if let wanted, lastRoles.holds(wanted, members, in: record) { return lastRoles.roles }
        var roles = Roles()
        var (messageRank, timeRank) = (Int.max, Int.max)
        // The ids' roles also depend on their values: a record with one of their keys is not kept.
        var dependsOnValues = false
        reader.forEachWanted(in: record) { index in
            let member = members[index]
            // A key can have two roles (a message key that is also the level key).
            roleTable.forEachMatch(UnsafeRawBufferPointer(rebasing: record[member.key])) { entry in
                switch rolesOfKeys[entry] {
                case .message(let rank): if rank < messageRank { (roles.message, messageRank) = (index, rank) }
                case .level: if roles.level == nil { roles.level = index }
                case .time(let rank): if rank < timeRank { (roles.time, timeRank) = (index, rank) }
                case .trace:
                    dependsOnValues = true
                    if roles.trace == nil && Self.isHex(RecordReader.stringContent(record, member.value), length: 32) { roles.trace = index }
                case .span:
                    dependsOnValues = true
                    if roles.span == nil && Self.isHex(RecordReader.stringContent(record, member.value), length: 16) { roles.span = index }
                }
            }
        }
        roles.lifted = Roles.bit(roles.message) | Roles.bit(roles.level) | Roles.bit(roles.trace) | Roles.bit(roles.span)
        if let wanted, !dependsOnValues { lastRoles.keep(roles, wanted, members, in: record) } else { lastRoles.forget() }
        return roles
    }

    /// A record's roles with the keys of the members that decided them (`RecordReader.wantedBits`):
    /// another record whose members at those places have the same keys has the same roles. The keys
    /// are held in the value itself, up to 8 of them and 48 bytes in all; more are not kept.
    struct RolesMemo {
        private(set) var roles = Roles()
        private var wanted: UInt64 = 0
        /// Whether the roles are kept: they followed from the keys alone.
        private(set) var isKept = false
        /// Each key's length, a byte each from the lowest.
        private var lengths: UInt64 = 0
        private var keys: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        private static let capacity = 48

        /// Whether `members`' keys at `wanted` are the kept ones.
        func holds(_ wanted: UInt64, _ members: RecordReader.MemberView, in record: UnsafeRawBufferPointer) -> Bool {
            guard isKept, wanted == self.wanted, let base = record.baseAddress else { return false }
            return withUnsafeBytes(of: keys) { kept in
                guard let keptBase = kept.baseAddress else { return false }
                var bits = wanted
                var lengths = lengths
                var at = 0
                while bits != 0 {
                    let key = members[bits.trailingZeroBitCount].key
                    let length = Int(truncatingIfNeeded: lengths & 0xFF)
                    guard key.count == length, ShortCompare.equal(base + key.lowerBound, keptBase + at, length) else { return false }
                    at &+= length
                    lengths &>>= 8
                    bits &= bits &- 1
                }
                return true
            }
        }

        mutating func keep(_ roles: Roles, _ wanted: UInt64, _ members: RecordReader.MemberView, in record: UnsafeRawBufferPointer) {
            isKept = false
            guard wanted.nonzeroBitCount <= 8, let base = record.baseAddress else { return }
            var lengths: UInt64 = 0
            var at = 0
            var bits = wanted
            var shift: UInt64 = 0
            let fits = withUnsafeMutableBytes(of: &keys) { kept -> Bool in
                while bits != 0 {
                    let key = members[bits.trailingZeroBitCount].key
                    guard at + key.count <= Self.capacity, let keptBase = kept.baseAddress else { return false }
                    (keptBase + at).copyMemory(from: base + key.lowerBound, byteCount: key.count)
                    lengths |= UInt64(key.count) &<< shift
                    at += key.count
                    shift &+= 8
                    bits &= bits &- 1
                }
                return true
            }
            guard fits else { return }
            (self.roles, self.wanted, self.lengths, isKept) = (roles, wanted, lengths, true)
        }

        mutating func forget() { isKept = false }
    }

    /// The processing time in nanoseconds, parsed once per distinct text; `now` without one. The
    /// test of the last text inline, its reading out of line.
    @inline(__always)
    func observedTime(_ record: UnsafeRawBufferPointer, now: UInt64) -> UInt64 {
        guard let member = reader.timeMember else { return now }
        let text = RecordReader.stringContent(record, reader.members[member].value)
        guard !text.isEmpty else { return now }
        if lastObserved.text.equals(text) { return lastObserved.value }
        return readObservedTime(text, now: now)
    }

    @inline(never)
    private func readObservedTime(_ text: UnsafeRawBufferPointer, now: UInt64) -> UInt64 {
        let value = RFC3339.nanoseconds(text) ?? now
        guard let kept = InlineBytes(text) else {
            lastObserved = (InlineBytes(), 0)
            observedPieceCount = 0
            return value
        }
        var piece: [UInt8] = []
        piece.appendLiteral(Self.observedName)
        piece.appendDecimal(value)
        piece.append(UInt8(ascii: "\""))
        // 45 bytes at most (twenty digits: UInt64.max).
        observedPieceCount = min(piece.count, observedPiece.count)
        piece.withUnsafeBytes { observedPiece.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<observedPieceCount])) }
        lastObserved = (kept, value)
        return value
    }

    /// `"observedTimeUnixNano":"<value>"` for a processing time `observedTime` returned: the piece
    /// also written once per distinct text.
    func appendObservedTime<Output: ByteOutput>(_ value: UInt64, to out: inout Output) {
        if value == lastObserved.value && observedPieceCount > 0, let piece = observedPiece.baseAddress {
            out.appendPadded(piece, count: observedPieceCount)
        } else {
            out.appendLiteral(Self.observedName)
            out.appendDecimal(value)
            out.append(UInt8(ascii: "\""))
        }
    }

    static let filePath: StaticString = "log.file.path"
    static let ioStream: StaticString = "log.iostream"

    /// The attribute name of an enrichment field that is one per record (nil for the resource's).
    static func attributeName(_ source: EnrichmentField.Source) -> UnsafeRawBufferPointer? {
        switch source {
        case .file: return UnsafeRawBufferPointer(start: filePath.utf8Start, count: filePath.utf8CodeUnitCount)
        case .stream: return UnsafeRawBufferPointer(start: ioStream.utf8Start, count: ioStream.utf8CodeUnitCount)
        case .fixed, .time: return nil
        }
    }

    /// The resource's attributes: the enrichment fields that are the same on every record, `host` as
    /// `host.name`, each with the key's JSON text (between quotes) and the value's JSON.
    static func resourceAttributes(_ shape: RecordShape) -> [(key: [UInt8], value: [UInt8])] {
        shape.fields.compactMap { field in
            guard field.source == .fixed, let value = field.value else { return nil }
            // `quotedKey` is `"key":`, escaped: the text between the quotes is what a key is here.
            let isHost = String(decoding: field.key, as: UTF8.self) == shape.hostKey
            return (isHost ? Array("host.name".utf8) : Array(field.quotedKey.dropFirst().dropLast(2)), value)
        }
    }

    /// OTel's severity numbers (the data model's table): trace 1, debug 5, info 9, warn 13, error 17,
    /// fatal 21; pino's and bunyan's numeric levels 10 to 60 map onto the same; 0 when unknown.
    static func severity(_ value: UnsafeRawBufferPointer) -> Int {
        var name = value
        if name.count >= 2 && name.first == UInt8(ascii: "\"") { name = name.betweenQuotes }
        guard let key = LevelName(name) else { return 0 }
        for (level, number) in severities where level == key { return number }
        return 0
    }

    /// A level's name of up to 15 bytes, folded to lower case and packed with its length into two
    /// words: the table is compared two words an entry, with no array of bytes walked or retained.
    struct LevelName: Equatable {
        var low: UInt64 = 0
        var high: UInt64 = 0

        init?(_ text: UnsafeRawBufferPointer) {
            guard text.count < 16, let base = text.baseAddress else { return nil }
            let count = text.count
            // Loaded a word or two at a time, never past the text: loads that overlap put the same bytes
            // in the same places.
            if count >= 8 {
                low = base.loadUnaligned(as: UInt64.self)
                if count > 8 { high = base.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self) &>> UInt64((16 &- count) &* 8) }
            } else if count >= 4 {
                low = UInt64(base.loadUnaligned(as: UInt32.self))
                low |= UInt64(base.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)) &<< UInt64((count &- 4) &* 8)
            } else {
                for index in 0..<count { low |= UInt64(base.load(fromByteOffset: index, as: UInt8.self)) &<< UInt64(index &* 8) }
            }
            low = Self.folded(low)
            high = Self.folded(high) | UInt64(count) &<< 56
        }

        /// The word with its bytes A-Z in lower case (SWAR: a byte's 0x20 set where it is upper case).
        private static func folded(_ word: UInt64) -> UInt64 {
            let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
            let seven = word & lows
            let atLeastA = (seven &+ 0x3F3F_3F3F_3F3F_3F3F) & ~word
            let pastZ = seven &+ 0x2525_2525_2525_2525
            let upper = atLeastA & ~pastZ & 0x8080_8080_8080_8080
            return word | (upper &>> 2)
        }
    }

    /// The severity numbers of the level values seen, each by its text of 4 to 16 bytes (quotes
    /// included) in two words, in a table of 16 by a hash of them, two entries a hash: a comparison
    /// or two where `severity` folds the name and looks it up (a service writes a handful of levels).
    /// Others are looked up each time.
    final class SeverityMemo {
        struct Entry {
            var low: UInt64 = 0
            var high: UInt64 = 0
            /// 0: empty.
            var count = 0
            var number = 0
        }
        private let entries = UnsafeMutableBufferPointer<Entry>.allocate(capacity: 16)

        init() { entries.initialize(repeating: Entry()) }

        deinit { entries.deallocate() }

        func number(_ value: UnsafeRawBufferPointer) -> Int {
            let count = value.count
            guard count >= 4, count <= 16, let base = value.baseAddress else { return OTLPFormat.severity(value) }
            // Loads that overlap, within the value: the same text gives the same words.
            let (low, high): (UInt64, UInt64)
            if count >= 8 {
                (low, high) = (base.loadUnaligned(as: UInt64.self), base.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self))
            } else {
                low = UInt64(base.loadUnaligned(as: UInt32.self)) | UInt64(base.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)) &<< 32
                high = 0
            }
            var mixed = low ^ (high &* 31) ^ UInt64(count)
            mixed ^= mixed &>> 29
            mixed &*= 0xBF58_476D_1CE4_E5B9
            mixed ^= mixed &>> 32
            // Two entries a hash: the newer first.
            let first = Int(truncatingIfNeeded: mixed & 14)
            func holds(_ entry: Entry) -> Bool { entry.low == low && entry.high == high && entry.count == count }
            if holds(entries[first]) { return entries[first].number }
            if holds(entries[first &+ 1]) { return entries[first &+ 1].number }
            let number = OTLPFormat.severity(value)
            entries[first &+ 1] = entries[first]
            entries[first] = Entry(low: low, high: high, count: count, number: number)
            return number
        }
    }

    /// The common names first: a lookup stops at its match.
    private static let severities: [(LevelName, Int)] = [
        ("info", 9), ("error", 17), ("warn", 13), ("debug", 5), ("warning", 13), ("trace", 1), ("fatal", 21), ("30", 9),
        ("40", 13), ("50", 17), ("20", 5), ("10", 1), ("60", 21), ("information", 9), ("notice", 10), ("err", 17),
        ("critical", 21), ("crit", 21), ("panic", 21), ("alert", 21), ("emerg", 21), ("emergency", 21),
    ].compactMap { name, number in Array(name.utf8).withUnsafeBytes { LevelName($0) }.map { ($0, number) } }

    private static func isHex(_ bytes: UnsafeRawBufferPointer, length: Int) -> Bool {
        bytes.count == length && bytes.allSatisfy(\.isHexDigit) && bytes.contains { $0 != 0x30 }
    }

    /// OTLP's retryable statuses; every other error is final: a refused batch is split and dead-lettered.
    func verdict(_ response: HTTPResponse, count: Int) -> HTTPVerdict {
        let reason = "HTTP \(response.status): \(response.summary)"
        switch response.status {
        case 200..<300:
            let partial = encoding == .json ? Self.partialSuccess(response.body) : Self.protobufPartialSuccess(response.body)
            return partial.map { .partiallyRejected($0.0, $0.1) } ?? .delivered
        // No answer at all (refused, reset, timed out) is retried as for every format.
        case 0, 429, 502, 503, 504: return .byStatus(response)
        case 401, 403, 404: return .configuration(reason)
        case 400..<600: return .rejected(reason)
        default: return .byStatus(response)
        }
    }

    /// `{"partialSuccess":{"rejectedLogRecords":"3","errorMessage":"…"}}` with a count above 0.
    static func partialSuccess(_ body: [UInt8]) -> (Int, String)? {
        guard body.count > 2, let value = try? JSONParser.parse(body), let partial = value["partialSuccess"] ?? value["partial_success"] else {
            return nil
        }
        let count: Int?
        switch partial["rejectedLogRecords"] ?? partial["rejected_log_records"] {
        case .string(let text)?: count = Int(text)
        case .number(let text)?: count = Int(text)
        default: count = nil
        }
        guard let count, count > 0 else { return nil }
        var message = ""
        if case .string(let text)? = partial["errorMessage"] ?? partial["error_message"] { message = text }
        return (count, message.isEmpty ? "\(count) records rejected" : message)
    }
}

extension OTLPOptions: HTTPFormatMaking {
    func makeFormat(shape: RecordShape) -> any HTTPFormat { OTLPFormat(options: self, shape: shape) }
}
