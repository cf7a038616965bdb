import Configuration
import Filters
import Glibc
import Records
import SystemSupport

/// Turns one line into one output record in a single pass over its bytes: `JSONScanner` validates it
/// and finds its top-level keys, then the application's bytes are copied as they are and the
/// enrichment fields spliced in before the closing brace. Nothing is decoded into a dictionary.
package final class Enricher {
    package enum Outcome { case record, empty, parseError, truncated }

    // The mode and the current source's format as Booleans: the enums' `==` is a call through their
    // Equatable witness from this module, and it was made for every line (callgrind: 2 %).
    /// `enrich.mode` is `wrap`.
    let wraps: Bool
    /// The lines come from a source in the `text` format.
    private(set) var readsText: Bool
    let fields: [EnrichmentField]
    private var timestamps = TimestampCache()
    private var timestamp: [UInt8] = []
    /// Where the lines come from, and its values for the `enrich.file_key` field (the quoted path it
    /// was found under) and the `stream` field of exec mode; nil leaves the field out.
    private var source: LineSource?
    private var file: [UInt8]?
    private var stream: [UInt8]?
    private let hasSourceFields: Bool
    let keyFilter: KeyFilter
    /// The same keys by their length and last byte (`KeyFilter` of the keys reversed): the second test
    /// for a key that passed `keyFilter` (in exec mode every `status` shares `stream`'s length and first
    /// byte).
    private let lastByteFilter: KeyFilter
    /// The chain's screen, lent to each line without a retain (the chain holds it); nil without one, or
    /// in merge mode when it may remove a key of the fields: the field then comes back, which the
    /// chain writes and the screen does not.
    let screen: Unmanaged<FilterScreen>?
    /// The configuration's filters; nil when there are none, and the path is the one without them.
    let filters: FilterChain?
    /// The same, lent to each line's call without a retain and a release around it (`filters` holds
    /// the chain as long as the enricher lives).
    private let unretainedFilters: Unmanaged<FilterChain>?
    var filterRecord = FilterRecord()
    /// Where `FilterRecord.load` has the scanner put a line's members, kept from line to line.
    var memberSlots: [FilterRecord.Member] = []
    /// The same for `encodeRecordingMembers`, packed as the batch keeps them: copied there whole.
    private var packedSlots: [PackedMember] = []
    /// The source's `parse`, and the object it builds for each record.
    private(set) var parser: LineParser?
    var parsedObject: [UInt8] = []

    private static let messageKey = Array("message".utf8)
    static let rawKey = Array("raw".utf8)
    static let partialKey = Array("partial".utf8)
    static let parseErrorKey = Array("parse_error".utf8)
    private static let truncatedKey = Array("truncated".utf8)
    private static let originalBytesKey = Array("original_bytes".utf8)

    package init(mode: EnrichMode, format: InputFormat = .json, fields: [EnrichmentField], filters: FilterChain? = nil) {
        wraps = mode == .wrap
        self.filters = filters
        unretainedFilters = filters.map { Unmanaged.passUnretained($0) }
        readsText = format == .text
        // ConfigLoader.validate keeps the count within the bound; the prefix only keeps the bit
        // arithmetic safe whatever a caller passes.
        self.fields = Array(fields.prefix(EnrichmentField.maximumCount))
        let fieldKeys = self.fields.map(\.key) + [Self.partialKey]
        keyFilter = KeyFilter(fieldKeys)
        lastByteFilter = KeyFilter(fieldKeys.map { Array($0.reversed()) })
        filters?.keys.watch(fieldKeys)
        let removesField = !wraps && (filters?.screen?.removedKeys ?? []).contains { fieldKeys.contains($0) }
        screen = removesField ? nil : filters?.unretainedScreen
        if !wraps { filters?.screen?.watch(fieldKeys) }
        hasSourceFields = self.fields.contains { $0.source == .file || $0.source == .stream }
        beginBatch()
    }

    /// `,"host":…,"processed_at":…` as a whole, rebuilt once per batch: a record whose keys do not
    /// collide with any field (nearly all) gets it with one append.
    private(set) var suffix: [UInt8] = []
    /// `suffix`'s bytes, in memory the enricher owns, and the record's closing `}\n` after them.
    private var suffixCopy = UnsafeMutableRawBufferPointer.allocate(byteCount: 2, alignment: 1)
    /// Set by `appendWithSuffix`, which writes the record's closing `}\n` too; `encode` clears it.
    private var recordClosed = false
    /// The suffix's members, their ranges relative to its first byte (the comma).
    private var suffixMembers: [PackedMember] = []
    /// Whether records leave with their members (`RecordBatch.members`), for a sink that takes them
    /// apart: the members the scan found are kept instead of found again by each such sink.
    package var recordsMembers = false {
        didSet {
            keepsMembers = recordsMembers && !wraps
            rebuildSuffix()
        }
    }
    /// `recordsMembers` in merge mode, the one test made for every line.
    private var keepsMembers = false

    /// Reads the clock once per batch: every record of a batch is processed within the same instant.
    package func beginBatch() {
        timestamp = timestamps.now()
        filters?.nowMs = MonotonicClock.milliseconds()
        rebuildSuffix()
    }

    deinit { suffixCopy.deallocate() }

    /// The lines that follow come from `source`, written in `format`, parsed by `parser` if any.
    package func begin(_ source: LineSource, format: InputFormat, parser: LineParser? = nil) {
        readsText = format == .text
        self.parser = parser
        guard hasSourceFields, source != self.source else { return }
        self.source = source
        switch source {
        case .file(let origin): (file, stream) = (Array(JSONValue.quoted(origin).utf8), nil)
        case .stream(let name): (file, stream) = (nil, Array(JSONValue.quoted(name.rawValue).utf8))
        case .journal: (file, stream) = (nil, nil)
        }
        rebuildSuffix()
    }

    private func rebuildSuffix() {
        suffix.removeAll(keepingCapacity: true)
        appendFields(into: &suffix, partial: false, reserved: wraps ? [Self.rawKey] : [])
        if suffixCopy.count != suffix.count + 2 {
            suffixCopy.deallocate()
            suffixCopy = .allocate(byteCount: suffix.count + 2, alignment: 1)
        }
        suffix.withUnsafeBytes { suffixCopy.copyMemory(from: $0) }
        suffixCopy[suffix.count] = UInt8(ascii: "}")
        suffixCopy[suffix.count + 1] = 0x0A
        suffixMembers.removeAll(keepingCapacity: true)
        guard recordsMembers, !wraps, !suffix.isEmpty else { return }
        // Read as the object `{` + the suffix after its comma + `}`: the same offsets as the suffix's.
        let object = [UInt8(ascii: "{")] + suffix.dropFirst() + [UInt8(ascii: "}")]
        _ = object.withUnsafeBytes { RecordMembers.forEach($0) { suffixMembers.append(PackedMember($0, shift: 0, enrichment: true)) } }
    }

    package func encode(_ line: Line, partial: Bool, into batch: inout RecordBatch) -> Outcome {
        if let unretainedFilters {
            return unretainedFilters._withUnsafeGuaranteedRef { encodeFiltered(line, partial: partial, filters: $0, into: &batch) }
        }
        let outcome: Outcome
        switch line {
        case .complete(let line):
            guard let bytes = Self.content(of: line) else { return .empty }
            if let parser {
                outcome = encodeParsed(bytes, parser: parser, partial: partial, into: &batch.bytes)
            } else if readsText {
                // A line of text is the message itself, in both modes: there is no object to wrap.
                appendMessage(bytes, flags: "", reserved: [], partial: partial, into: &batch.bytes)
                outcome = .record
            } else {
                outcome =
                    keepsMembers
                    ? encodeRecordingMembers(bytes, partial: partial, into: &batch)
                    : encodeLine(bytes, partial: partial, wrap: wraps, into: &batch.bytes)
            }
        case .truncated(let head, let originalBytes):
            appendMessage(
                head, flags: Self.truncatedFlags(originalBytes),
                reserved: [Self.truncatedKey, Self.originalBytesKey], partial: partial, into: &batch.bytes)
            outcome = .truncated
        }
        closeRecord(in: &batch)
        return outcome
    }

    /// Ends the record written last: its closing `}\n`, unless it has them (`recordClosed`), and its end.
    @inline(__always)
    func closeRecord(in batch: inout RecordBatch) {
        if recordClosed {
            recordClosed = false
        } else {
            batch.bytes.append(UInt8(ascii: "}"))
            batch.bytes.append(0x0A)
        }
        batch.recordEnds.append(batch.bytes.count)
    }

    /// A line without its `\r` (a CRLF file); nil when nothing is left.
    @inline(__always)
    static func content(of line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var bytes = line
        if let last = bytes.last, last == 0x0D { bytes = UnsafeRawBufferPointer(rebasing: bytes.dropLast()) }
        return bytes.isEmpty ? nil : bytes
    }

    /// The members our record of a cut line has after its message.
    static func truncatedFlags(_ originalBytes: Int) -> String { ",\"truncated\":true,\"original_bytes\":\(originalBytes)" }

    /// A record through its source's parser: the object it built taken as a line of JSON (our own,
    /// parsed from text, is merged in either mode), or the text with `parse_error` when it did not parse.
    private func encodeParsed(_ bytes: UnsafeRawBufferPointer, parser: LineParser, partial: Bool, into out: inout [UInt8]) -> Outcome {
        if readsText {
            // Written straight into the batch: the object is ours, so its keys are known and the
            // enrichment fields they collide with are found without scanning it again.
            let start = out.count
            guard parser.appendObject(bytes, to: &out) else {
                appendMessage(bytes, flags: ",\"parse_error\":true", reserved: [Self.parseErrorKey], partial: partial, into: &out)
                return .parseError
            }
            var found: UInt64 = 0
            var hasPartialKey = false
            let fields = self.fields
            if !fields.isEmpty {
                parser.forEachKey { key in
                    key.withUnsafeBytes { key in
                        found |=
                            key.contains(UInt8(ascii: "\\"))
                            ? Self.escapedFieldBits(key, fields, &hasPartialKey) : Self.match(key, fields, &hasPartialKey)
                    }
                }
            }
            out.removeLast()
            appendMergedFields(into: &out, hasMembers: out.count - start > 1, found: found, partial: partial, hasPartialKey: hasPartialKey)
            return .record
        }
        let (parsed, failed) = parse(bytes, with: parser, into: &parsedObject)
        switch parsed {
        case .object(let own):
            let outcome = parsedObject.withUnsafeBytes { encodeLine($0, partial: partial, wrap: !own && wraps, into: &out) }
            return failed ? .parseError : outcome
        case .textFailed:
            appendMessage(bytes, flags: ",\"parse_error\":true", reserved: [Self.parseErrorKey], partial: partial, into: &out)
            return .parseError
        case .unchanged:
            return encodeLine(bytes, partial: partial, wrap: wraps, into: &out)
        }
    }

    /// `wrap`: the object goes under "raw" (wrap mode, an application's object).
    private func encodeLine(_ bytes: UnsafeRawBufferPointer, partial: Bool, wrap: Bool, into out: inout [UInt8]) -> Outcome {
        var found: UInt64 = 0
        var hasPartialKey = false
        let merge = !wrap
        // A wrapped record looks up no key: no key passes an empty filter, and the loop tests the mode
        // only for an escaped key (the byte by byte walk's; on the SIMD walk's, none is).
        let candidates = merge ? keyFilter : KeyFilter()
        // The enricher lent to the callback without a retain (it outlives its own call): captured, or
        // through `unowned(unsafe)`, it was retained around each line or each call.
        let unretained = Unmanaged.passUnretained(self)
        let object = JSONScanner.scanObject(bytes) { member in
            guard (member.keyIsEscaped && merge) || candidates.mayMatch(member.keyCount, bytes[member.key.lowerBound]) else { return }
            // `fields` read there, for the few keys that may be one: taken before the scan, the array
            // was retained and released around every line.
            let key = UnsafeRawBufferPointer(rebasing: bytes[member.key])
            found |= unretained._withUnsafeGuaranteedRef { $0.fieldBits(key, escaped: member.keyIsEscaped, &hasPartialKey) }
        }
        guard let object else {
            appendMessage(bytes, flags: ",\"parse_error\":true", reserved: [Self.parseErrorKey], partial: partial, into: &out)
            return .parseError
        }
        appendObject(object, of: bytes, found: found, hasPartialKey: hasPartialKey, partial: partial, merge: merge, into: &out)
        return .record
    }

    /// The scanned object of `bytes` with the enrichment fields: spliced in before its closing brace in
    /// merge mode (`found`: the fields whose keys it has), else after it under "raw". Closes the record
    /// itself (`recordClosed`) when it goes with the whole suffix.
    @inline(__always)
    func appendObject(
        _ object: JSONScanner.Object, of bytes: UnsafeRawBufferPointer, found: UInt64, hasPartialKey: Bool, partial: Bool, merge: Bool,
        into out: inout [UInt8]
    ) {
        let body = UnsafeRawBufferPointer(rebasing: bytes[object.range])
        if merge {
            // Everything but the closing brace; the fields go in before it.
            let open = UnsafeRawBufferPointer(rebasing: body[..<(body.count &- 1)])
            if !object.needsRepair, found == 0, !partial {
                appendWithSuffix(open, hasMembers: object.memberCount > 0, into: &out)
            } else {
                if object.needsRepair { JSONRepair.append(open, to: &out) } else { out.append(contentsOf: open) }
                appendMergedFields(into: &out, hasMembers: object.memberCount > 0, found: found, partial: partial, hasPartialKey: hasPartialKey)
            }
        } else {
            out.append(contentsOf: "{\"raw\":".utf8)
            if object.needsRepair { JSONRepair.append(body, to: &out) } else { out.append(contentsOf: body) }
            if partial {
                appendFields(into: &out, partial: partial, reserved: [Self.rawKey])
            } else {
                out.append(contentsOf: suffix)
            }
        }
    }

    /// `encodeLine` in merge mode, keeping the members its scan found with the record
    /// (`RecordBatch.members`) when the record is the line with the suffix after it, nearly every one.
    /// Any other record (repaired bytes, a colliding key, a partial line, an empty object) keeps none,
    /// and a sink's reader scans it itself: its empty span is written before the next record's, or by
    /// the pipeline at the batch's end, so the other paths do nothing for it. The scanner puts the
    /// members into `packedSlots` (`scanIntoSlots`), packed as the batch keeps them: a member packed from
    /// a slot of the scanner's own type afterwards cost 24 instructions.
    private func encodeRecordingMembers(_ bytes: UnsafeRawBufferPointer, partial: Bool, into batch: inout RecordBatch) -> Outcome {
        let candidates = keyFilter
        let unretained = Unmanaged.passUnretained(self)
        // The counts are the closure's own, handed back with the object, not variables of this
        // function it captures: so they stay in registers through the scanner's loop. The fields are
        // read as in `encodeLine`.
        let (scanned, found) = packedSlots.scanIntoSlots(unset: .unset) { slots in
            var found = 0
            var keys: UInt64 = 0
            var hasPartialKey = false
            let object = JSONScanner.scanObject(bytes) { member in
                // Offsets past `PackedMember.limit` are cut here; such a record keeps no members.
                if found < slots.count { slots[found] = PackedMember(member, shift: 0) }
                found &+= 1
                guard member.keyIsEscaped || candidates.mayMatch(member.keyCount, bytes[member.key.lowerBound]) else { return }
                let key = UnsafeRawBufferPointer(rebasing: bytes[member.key])
                keys |= unretained._withUnsafeGuaranteedRef { $0.fieldBits(key, escaped: member.keyIsEscaped, &hasPartialKey) }
            }
            return (object.map { ($0, keys, hasPartialKey) }, found)
        }
        guard let (object, keys, hasPartialKey) = scanned else {
            appendMessage(bytes, flags: ",\"parse_error\":true", reserved: [Self.parseErrorKey], partial: partial, into: &batch.bytes)
            return .parseError
        }
        // Everything but the closing brace; the fields go in before it.
        let open = UnsafeRawBufferPointer(rebasing: bytes[object.range.lowerBound..<(object.range.upperBound - 1)])
        if !object.needsRepair, keys == 0, !partial {
            appendWithSuffix(open, hasMembers: object.memberCount > 0, into: &batch.bytes)
        } else {
            if object.needsRepair { JSONRepair.append(open, to: &batch.bytes) } else { batch.bytes.append(contentsOf: open) }
            appendMergedFields(into: &batch.bytes, hasMembers: object.memberCount > 0, found: keys, partial: partial, hasPartialKey: hasPartialKey)
        }
        guard !object.needsRepair, keys == 0, !partial, found > 0, open.count + suffix.count < PackedMember.limit else { return .record }
        // Records before this one that kept none; this one is not counted yet.
        batch.padMemberSpans()
        let first = batch.members.count
        // From the line's offsets to the record's, which starts at the object's brace.
        let shift = object.range.lowerBound
        let suffixStart = open.count
        // Written into room made with one append: an append a member cost some sixty instructions.
        // The two arrays are reached in place (a mutable access): a read of each retained and released
        // it every record.
        packedSlots.withUnsafeMutableBufferPointer { slots in
            suffixMembers.withUnsafeMutableBufferPointer { suffixMembers in
                batch.members.append(addingCapacity: found + suffixMembers.count) { span in
                    span.withUnsafeMutableBufferPointer { room, initialized in
                        guard let base = room.baseAddress, let slotBase = slots.baseAddress else { return }
                        // A line that starts with its brace (nearly every one) keeps its offsets.
                        if shift == 0 {
                            (base + initialized).initialize(from: slotBase, count: found)
                            initialized += found
                        } else {
                            for index in 0..<found {
                                (base + initialized).initialize(to: slots[index].shifted(by: -shift))
                                initialized += 1
                            }
                        }
                        for member in suffixMembers {
                            (base + initialized).initialize(to: member.shifted(by: suffixStart))
                            initialized += 1
                        }
                    }
                }
            }
        }
        batch.memberSpans.append(first..<batch.members.count)
        return .record
    }

    /// A record of our own around the line's text: `{"message":"<text>"` + `flags` + the enrichment
    /// fields, except those whose keys the record already uses (text lines, lines that are not objects,
    /// truncated lines). The caller closes it.
    private func appendMessage(
        _ text: UnsafeRawBufferPointer, flags: String, reserved: [[UInt8]], partial: Bool, into out: inout [UInt8]
    ) {
        out.append(contentsOf: "{\"message\":".utf8)
        JSONEscaper.appendQuoted(text, to: &out)
        out.append(contentsOf: flags.utf8)
        appendFields(into: &out, partial: partial, reserved: [Self.messageKey] + reserved)
    }

    /// `fieldBits` for a key with escapes (rare): compared decoded, out of the scanner's loop.
    @inline(never)
    private static func escapedFieldBits(_ key: UnsafeRawBufferPointer, _ fields: [EnrichmentField], _ isPartial: inout Bool) -> UInt64 {
        var decoded: [UInt8] = []
        JSONUnescape.append(key, to: &decoded)
        return decoded.withUnsafeBytes { match($0, fields, &isPartial) }
    }

    /// Merge mode: the fields after an object's members (written up to, not including, its closing
    /// brace), except those whose keys it has (`found`): the prebuilt suffix when none collides.
    @inline(__always)
    func appendMergedFields(into out: inout [UInt8], hasMembers: Bool, found: UInt64, partial: Bool, hasPartialKey: Bool) {
        if found == 0 && !partial {
            // From the enricher's own copy (a slice of `suffix` was retained and released every line),
            // without the closing bytes, which the caller writes.
            let fields = closedSuffix(hasMembers: hasMembers).dropLast(2)
            if !fields.isEmpty { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: fields)) }
        } else {
            appendFields(into: &out, partial: partial && !hasPartialKey, reserved: [], needsComma: hasMembers, skipping: found)
        }
    }

    /// The suffix and the closing `}\n` after an object's members; without members, without its comma.
    @inline(__always)
    func closedSuffix(hasMembers: Bool) -> UnsafeRawBufferPointer {
        let skipped = hasMembers || suffixCopy.count == 2 ? 0 : 1
        return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(suffixCopy)[skipped...])
    }

    /// `open` (an object without its closing brace), the prebuilt suffix (as `appendMergedFields`
    /// writes it when no field's key collides) and the closing `}\n`, in one append: each array append
    /// cost some hundred instructions before it copied. Out of line: inlined, it made `encodeLine`
    /// large enough that the scanner's callback was no longer inlined into its loop.
    @inline(never)
    private func appendWithSuffix(_ open: UnsafeRawBufferPointer, hasMembers: Bool, into out: inout [UInt8]) {
        recordClosed = true
        let suffix = closedSuffix(hasMembers: hasMembers)
        out.append(addingCapacity: open.count &+ suffix.count) { span in
            span.withUnsafeMutableBufferPointer { room, initialized in
                guard let target = room.baseAddress else { return }
                if let source = open.baseAddress { memcpy(target + initialized, source, open.count) }
                initialized &+= open.count
                if suffix.count == 2 {
                    // No fields: the closing bytes alone, where a call to `memcpy` cost more.
                    (target[initialized], target[initialized &+ 1]) = (UInt8(ascii: "}"), 0x0A)
                } else if let source = suffix.baseAddress {
                    memcpy(target + initialized, source, suffix.count)
                }
                initialized &+= suffix.count
            }
        }
    }

    /// The bits of the fields whose key is `key`, noting whether it is "partial": `match` (or
    /// `escapedFieldBits`) over the enricher's own fields, for a key `keyFilter` let through (its
    /// callers test that inline, first). Out of the scanner's loop, where inline it took the walk's
    /// registers; a `let` of the enricher read in its own method is lent, not retained.
    @inline(never)
    func fieldBits(_ key: UnsafeRawBufferPointer, escaped: Bool, _ isPartial: inout Bool) -> UInt64 {
        if escaped { return Self.escapedFieldBits(key, fields, &isPartial) }
        guard key.isEmpty || lastByteFilter.mayMatch(key.count, key[key.count &- 1]) else { return 0 }
        return Self.match(key, fields, &isPartial)
    }

    /// The bit of the enrichment field named `key`, if any; notes whether `key` is "partial".
    @inline(__always)
    static func match(_ key: UnsafeRawBufferPointer, _ fields: [EnrichmentField], _ isPartial: inout Bool) -> UInt64 {
        var bits: UInt64 = 0
        for index in fields.indices where fields[index].key.count == key.count && fields[index].key.first == key.first {
            let equal = fields[index].key.withUnsafeBytes { ShortCompare.equal($0.baseAddress!, key.baseAddress!, key.count) }
            if equal { bits |= 1 << UInt64(index) }
        }
        if key.count == 7 && partialKey.elementsEqual(key) { isPartial = true }
        return bits
    }

    func appendFields(
        into out: inout [UInt8], partial: Bool, reserved: [[UInt8]], needsComma: Bool = true, skipping present: UInt64 = 0
    ) {
        var comma = needsComma
        for (index, field) in fields.enumerated() {
            // A field the application's object already has: its own key wins.
            if present & (1 << UInt64(index)) != 0 { continue }
            if reserved.contains(field.key) || (partial && field.key == Self.partialKey) { continue }
            let value: [UInt8]?
            switch field.source {
            case .fixed: value = field.value
            case .time: value = timestamp
            case .file: value = file
            case .stream: value = stream
            }
            guard let value else { continue }
            if comma { out.append(UInt8(ascii: ",")) }
            comma = true
            out.append(contentsOf: field.quotedKey)
            out.append(contentsOf: value)
        }
        if partial {
            if comma { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: "\"partial\":true".utf8)
        }
    }
}
