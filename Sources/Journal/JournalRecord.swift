import Configuration
import Glibc
import Records

/// Builds a record from one journal entry's fields, as they come from `sd_journal_enumerate_data`
/// (`NAME=value`, the value any bytes): `message` from MESSAGE, `level` from PRIORITY by name, `time`
/// from the sender's realtime (`_SOURCE_REALTIME_TIMESTAMP`) or journald's, and every other field (or
/// those `fields` lists) under its journal name as a string. A name that occurs more than once in the
/// entry becomes an array of its values, in order, as `journalctl -o json` writes it.
struct JournalRecord {
    /// The names `fields` keeps; nil keeps every field.
    private let keep: [[UInt8]]?
    private let maxValueBytes: Int
    private var message: [UInt8] = []
    private var hasMessage = false
    private var level: [UInt8] = []
    private var sourceRealtime: UInt64?
    /// Every other field of the entry: names and quoted values in one store, and where each lies.
    /// sd-journal's data pointer is valid only until the next field, so each is copied once, here.
    private var store: [UInt8] = []
    private var fields: [Field] = []
    private var truncated = false
    /// Fields already written as part of an earlier one's array (a name given twice).
    private var written: [Bool] = []
    private var times = TimestampCache()

    private static let quoteColon: [UInt8] = [UInt8(ascii: "\""), UInt8(ascii: ":")]
    private static let timeKey: [UInt8] = Array("\"time\":".utf8)
    private static let trueLiteral: [UInt8] = Array("true".utf8)
    /// PRIORITY 0-7 as the level's JSON string.
    private static let quotedLevels: [[UInt8]] = JournaldSettings.levelNames.map { Array("\"\($0)\"".utf8) }

    private struct Field {
        var name: Range<Int>
        var value: Range<Int>
        /// FNV-1a of the name: a name given twice is found without comparing bytes.
        var hash: UInt64
    }

    init(fields: [String]?, maxValueBytes: Int) {
        keep = fields.map { $0.map { Array($0.utf8) } }
        self.maxValueBytes = maxValueBytes
    }

    /// Starts the next entry.
    mutating func reset() {
        hasMessage = false
        level.removeAll(keepingCapacity: true)
        sourceRealtime = nil
        store.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
        truncated = false
    }

    private static func equal(_ bytes: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        guard let base = bytes.baseAddress, bytes.count == name.utf8CodeUnitCount else { return false }
        return memcmp(base, name.utf8Start, bytes.count) == 0
    }

    /// One `NAME=value` of the entry; data without `=` is not a field and is ignored.
    mutating func add(_ data: UnsafeRawBufferPointer) {
        guard let base = data.baseAddress, let found = memchr(base, Int32(UInt8(ascii: "=")), data.count) else { return }
        let equals = UnsafeRawPointer(found) - base
        guard equals > 0 else { return }
        let name = UnsafeRawBufferPointer(start: base, count: equals)
        let value = UnsafeRawBufferPointer(start: base + equals + 1, count: data.count - equals - 1)
        if Self.equal(name, "MESSAGE") {
            if !hasMessage {
                hasMessage = true
                message.removeAll(keepingCapacity: true)
                if Self.quote(value, into: &message, limit: maxValueBytes) { truncated = true }
            }
            return
        }
        if Self.equal(name, "PRIORITY") {
            level.removeAll(keepingCapacity: true)
            if value.count == 1, let digit = value.first, digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") {
                level.append(contentsOf: Self.quotedLevels[Int(digit - UInt8(ascii: "0"))])
            } else {
                if Self.quote(value, into: &level, limit: maxValueBytes) { truncated = true }
            }
            return
        }
        if Self.equal(name, "_SOURCE_REALTIME_TIMESTAMP") { sourceRealtime = Self.decimal(value) }
        if let keep, !keep.contains(where: { $0.count == equals && memcmp($0, base, equals) == 0 }) { return }
        let nameStart = store.count
        store.append(contentsOf: name)
        let valueStart = store.count
        if Self.quote(value, into: &store, limit: maxValueBytes) { truncated = true }
        fields.append(Field(name: nameStart..<valueStart, value: valueStart..<store.count, hash: FileIdentity.fnv1a(name)))
    }

    /// `value` quoted, cut at `limit` bytes on a character boundary; whether it was cut.
    private static func quote(_ value: UnsafeRawBufferPointer, into out: inout [UInt8], limit: Int) -> Bool {
        guard value.count > limit else {
            JSONEscaper.appendQuoted(value, to: &out)
            return false
        }
        JSONEscaper.appendQuoted(UnsafeRawBufferPointer(rebasing: value[..<UTF8Validation.boundary(value, limit: limit)]), to: &out)
        return true
    }

    /// The record's JSON object; `realtimeUsec` is journald's time of the entry.
    mutating func finish(realtimeUsec: UInt64, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var comma = false
        func member(_ key: StaticString, _ value: [UInt8], into out: inout [UInt8]) {
            if comma { out.append(UInt8(ascii: ",")) }
            comma = true
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            out.append(contentsOf: Self.quoteColon)
            out.append(contentsOf: value)
        }
        if hasMessage { member("message", message, into: &out) }
        if !level.isEmpty { member("level", level, into: &out) }
        if comma { out.append(UInt8(ascii: ",")) }
        comma = true
        out.append(contentsOf: Self.timeKey)
        times.append(microseconds: sourceRealtime ?? realtimeUsec, to: &out)
        written.removeAll(keepingCapacity: true)
        written.append(contentsOf: repeatElement(false, count: fields.count))
        for index in fields.indices where !written[index] {
            let field = fields[index]
            if comma { out.append(UInt8(ascii: ",")) }
            comma = true
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: store[field.name])
            out.append(contentsOf: Self.quoteColon)
            // The same name later in the entry: its values go with this one, as an array.
            func isSame(_ other: Int) -> Bool {
                fields[other].hash == field.hash && store[fields[other].name].elementsEqual(store[field.name])
            }
            guard let first = (index + 1..<fields.count).first(where: isSame) else {
                out.append(contentsOf: store[field.value])
                continue
            }
            out.append(UInt8(ascii: "["))
            out.append(contentsOf: store[field.value])
            for other in first..<fields.count where isSame(other) {
                written[other] = true
                out.append(UInt8(ascii: ","))
                out.append(contentsOf: store[fields[other].value])
            }
            out.append(UInt8(ascii: "]"))
        }
        if truncated { member("truncated", Self.trueLiteral, into: &out) }
        out.append(UInt8(ascii: "}"))
    }

    /// A decimal number of microseconds; nil when it is not one.
    static func decimal(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 19 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
