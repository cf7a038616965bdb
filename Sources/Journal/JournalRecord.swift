import Configuration
import Glibc
import Records

/// Builds a record from one journal entry's fields, as they come from `sd_journal_enumerate_data`
/// (`NAME=value`, the value any bytes): `message` from MESSAGE, `level` from PRIORITY by name, `time`
/// from the sender's realtime (`_SOURCE_REALTIME_TIMESTAMP`) or journald's, and every other field (or
/// those `fields` lists) under its journal name as a string. A name that occurs more than once in the
/// entry becomes an array of its values, in order, as `journalctl -o json` writes it.
struct JournalRecord {
    private let keep: Set<[UInt8]>?
    private let maxValueBytes: Int
    private var message: [UInt8]?
    private var level: [UInt8]?
    private var sourceRealtime: UInt64?
    private var names: [[UInt8]] = []
    private var values: [[[UInt8]]] = []
    private var truncated = false
    private var timeCache = (second: -1, prefix: [UInt8]())

    init(fields: [String]?, maxValueBytes: Int) {
        keep = fields.map { Set($0.map { Array($0.utf8) }) }
        self.maxValueBytes = maxValueBytes
    }

    /// Starts the next entry.
    mutating func reset() {
        message = nil
        level = nil
        sourceRealtime = nil
        names.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        truncated = false
    }

    /// One `NAME=value` of the entry; data without `=` is not a field and is ignored.
    mutating func add(_ data: UnsafeRawBufferPointer) {
        guard let equals = data.firstIndex(of: UInt8(ascii: "=")), equals > 0 else { return }
        let name = UnsafeRawBufferPointer(rebasing: data[..<equals])
        let value = UnsafeRawBufferPointer(rebasing: data[(equals + 1)...])
        if name.elementsEqual("MESSAGE".utf8) {
            if message == nil { message = quoted(value) }
            return
        }
        if name.elementsEqual("PRIORITY".utf8) {
            if value.count == 1, let digit = value.first, digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") {
                level = Array("\"\(JournaldSettings.levelNames[Int(digit - UInt8(ascii: "0"))])\"".utf8)
            } else {
                level = quoted(value)
            }
            return
        }
        if name.elementsEqual("_SOURCE_REALTIME_TIMESTAMP".utf8) { sourceRealtime = Self.decimal(value) }
        let key = Array(name)
        if let keep, !keep.contains(key) { return }
        if let index = names.firstIndex(of: key) {
            values[index].append(quoted(value))
        } else {
            names.append(key)
            values.append([quoted(value)])
        }
    }

    private mutating func quoted(_ value: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(min(value.count, maxValueBytes) + 2)
        if value.count > maxValueBytes {
            truncated = true
            JSONEscaper.appendQuoted(UnsafeRawBufferPointer(rebasing: value[..<UTF8Validation.boundary(value, limit: maxValueBytes)]), to: &out)
        } else {
            JSONEscaper.appendQuoted(value, to: &out)
        }
        return out
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
            out.append(contentsOf: "\":".utf8)
            out.append(contentsOf: value)
        }
        if let message { member("message", message, into: &out) }
        if let level { member("level", level, into: &out) }
        member("time", time(sourceRealtime ?? realtimeUsec), into: &out)
        for (name, list) in zip(names, values) {
            if comma { out.append(UInt8(ascii: ",")) }
            comma = true
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: name)
            out.append(contentsOf: "\":".utf8)
            if list.count == 1 {
                out.append(contentsOf: list[0])
            } else {
                out.append(UInt8(ascii: "["))
                for (index, value) in list.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    out.append(contentsOf: value)
                }
                out.append(UInt8(ascii: "]"))
            }
        }
        if truncated { member("truncated", Array("true".utf8), into: &out) }
        out.append(UInt8(ascii: "}"))
    }

    /// RFC 3339 UTC with microseconds, quoted: `"2026-12-03T06:01:02.123456Z"`.
    private mutating func time(_ usec: UInt64) -> [UInt8] {
        let second = Int(min(usec / 1_000_000, UInt64(Int32.max) * 100))
        if second != timeCache.second {
            var time = time_t(second)
            var parts = tm()
            gmtime_r(&time, &parts)
            var prefix: [UInt8] = [UInt8(ascii: "\"")]
            func digits(_ value: Int32, _ width: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                var number = Int(value)
                for _ in 0..<width {
                    prefix.append(UInt8(ascii: "0") + UInt8(number / divisor % 10))
                    number %= divisor
                    divisor /= 10
                }
            }
            digits(parts.tm_year + 1900, 4)
            prefix.append(UInt8(ascii: "-"))
            digits(parts.tm_mon + 1, 2)
            prefix.append(UInt8(ascii: "-"))
            digits(parts.tm_mday, 2)
            prefix.append(UInt8(ascii: "T"))
            digits(parts.tm_hour, 2)
            prefix.append(UInt8(ascii: ":"))
            digits(parts.tm_min, 2)
            prefix.append(UInt8(ascii: ":"))
            digits(parts.tm_sec, 2)
            prefix.append(UInt8(ascii: "."))
            timeCache = (second, prefix)
        }
        var text = timeCache.prefix
        var micro = Int(usec % 1_000_000)
        var divisor = 100_000
        for _ in 0..<6 {
            text.append(UInt8(ascii: "0") + UInt8(micro / divisor))
            micro %= divisor
            divisor /= 10
        }
        text.append(contentsOf: "Z\"".utf8)
        return text
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
