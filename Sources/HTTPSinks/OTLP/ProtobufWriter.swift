import Glibc
import Records

/// Where the protobuf writer writes: the request body (`GrowableBytes`), or room reserved in it for a
/// record (`BoundedBytes`, whose appends keep the position in a register), with what a nested
/// message's length needs besides appends.
package protocol ProtobufOutput: ByteOutput {
    var count: Int { get }
    func store(_ byte: UInt8, at position: Int)
    mutating func insertGap(at position: Int, count extra: Int) -> Bool
    mutating func removeGap(at position: Int, count removed: Int)
    mutating func appendShort(_ word: UInt64, count: Int)
}

extension GrowableBytes: ProtobufOutput {}
extension BoundedBytes: ProtobufOutput {}

enum WireType: UInt64 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
}

/// Protocol Buffers' wire format, as much of it as OTLP needs. A nested message keeps one byte for its
/// length and widens it when the message turns out longer than 127 bytes, so nothing is encoded twice
/// to learn a size first.
extension ProtobufOutput {
    /// A varint: one byte inline (tags, small numbers and lengths, nearly all), longer ones by a call.
    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        if value < 0x80 { return append(UInt8(truncatingIfNeeded: value)) }
        appendLongVarint(value)
    }

    @inline(never)
    private mutating func appendLongVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        append(UInt8(rest))
    }

    @inline(__always)
    mutating func appendTag(_ field: UInt64, _ type: WireType) { appendVarint(field << 3 | type.rawValue) }

    @inline(__always)
    mutating func appendFixed64(field: UInt64, _ value: UInt64) {
        appendTag(field, .fixed64)
        appendWord(value)
    }

    /// Starts a length-delimited field, keeping room for the length of a message about `expected`
    /// bytes long (a log record: two bytes); hand the result to `endField`.
    @inline(__always)
    mutating func beginField(_ field: UInt64, expected: Int = 0) -> (start: Int, kept: Int) {
        appendTag(field, .lengthDelimited)
        if expected < 0x80 {
            append(0)
            return (count, 1)
        }
        let kept = Self.varintSize(expected)
        for _ in 0..<kept { append(0) }
        return (count, kept)
    }

    /// Writes the length of the field begun at `field.start` (where its content starts), widening or
    /// narrowing the room kept for it to the length's minimal varint, as protobuf's own encoder writes.
    /// A length of one byte in the byte kept (nearly every field) inline, the rest by a call.
    @inline(__always)
    mutating func endField(_ field: (start: Int, kept: Int)) {
        let length = count &- field.start
        if field.kept == 1 && length < 0x80 { return store(UInt8(truncatingIfNeeded: length), at: field.start &- 1) }
        endLongField(field)
    }

    @inline(never)
    private mutating func endLongField(_ field: (start: Int, kept: Int)) {
        let length = count - field.start
        let size = Self.varintSize(length)
        if size > field.kept {
            guard insertGap(at: field.start, count: size - field.kept) else { return }
        } else if size < field.kept {
            removeGap(at: field.start - field.kept + size, count: field.kept - size)
        }
        var rest = UInt64(length)
        let at = field.start - field.kept
        for index in 0..<size {
            store(UInt8(truncatingIfNeeded: rest) | (index < size - 1 ? 0x80 : 0), at: at + index)
            rest >>= 7
        }
    }

    static func varintSize(_ value: Int) -> Int {
        var size = 1
        while value >> (7 * size) > 0 { size += 1 }
        return size
    }

    @inline(__always)
    mutating func appendBytesField(_ field: UInt64, _ bytes: UnsafeRawBufferPointer) {
        // A tag of one byte and a length of one (nearly every field): both in one store.
        if field < 16, bytes.count < 0x80 {
            appendShort((field << 3 | WireType.lengthDelimited.rawValue) | UInt64(bytes.count) << 8, count: 2)
        } else {
            appendTag(field, .lengthDelimited)
            appendVarint(UInt64(bytes.count))
        }
        appendBytes(bytes)
    }

    /// A string field from a JSON string's content (between its quotes), its escapes decoded.
    mutating func appendStringField(_ field: UInt64, json content: UnsafeRawBufferPointer) {
        guard RecordMembers.hasBackslash(content) else { return appendBytesField(field, content) }
        let start = beginField(field)
        JSONUnescape.append(content, to: &self)
        endField(start)
    }
}

/// A JSON value as OTLP's protobuf `AnyValue` (common.proto): string 1, bool 2, int64 3, double 4,
/// `ArrayValue` 5, `KeyValueList` 6; null is the empty message. The same types as the JSON writer.
package enum ProtobufAnyValue {
    /// The `AnyValue` message's content for `value` (one JSON value of a record we wrote).
    package static func append(_ value: UnsafeRawBufferPointer, to out: GrowableBytes) {
        var out = out
        append(value, to: &out)
    }

    package static func append<Output: ProtobufOutput>(_ value: UnsafeRawBufferPointer, to out: inout Output) {
        guard let first = value.first else { return }
        switch first {
        case UInt8(ascii: "\""):
            out.appendStringField(1, json: value.betweenQuotes)
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            out.appendTag(2, .varint)
            out.append(first == UInt8(ascii: "t") ? 1 : 0)
        case UInt8(ascii: "n"): break
        case UInt8(ascii: "{"):
            let list = out.beginField(6)
            _ = RecordMembers.forEach(value) { member in
                appendKeyValue(
                    1, key: UnsafeRawBufferPointer(rebasing: value[member.key]), escaped: member.keyIsEscaped,
                    value: UnsafeRawBufferPointer(rebasing: value[member.value]), to: &out)
            }
            out.endField(list)
        case UInt8(ascii: "["):
            let array = out.beginField(5)
            _ = RecordMembers.forEachElement(value) { element in
                let item = out.beginField(1)
                append(UnsafeRawBufferPointer(rebasing: value[element]), to: &out)
                out.endField(item)
            }
            out.endField(array)
        default: appendNumber(value, to: &out)
        }
    }

    /// A `KeyValue` as field `field` of the enclosing message; `key` is the key's JSON text.
    static func appendKeyValue(_ field: UInt64, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, to out: GrowableBytes) {
        var out = out
        appendKeyValue(field, key: key, escaped: true, value: value, to: &out)
    }

    /// The same with `escaped` false for a key the scanner found no escape in (`keyIsEscaped`): written
    /// as it is, not looked through again.
    static func appendKeyValue<Output: ProtobufOutput>(
        _ field: UInt64, key: UnsafeRawBufferPointer, escaped: Bool, value: UnsafeRawBufferPointer, to out: inout Output
    ) {
        // The pair's tag and the room for its length, and the key's tag and length, in one store when
        // they are a byte each (an unescaped key below 128 bytes).
        let pair: (start: Int, kept: Int)
        if !escaped, field < 16, key.count < 0x80 {
            out.appendShort((field << 3 | WireType.lengthDelimited.rawValue) | 0x0A << 16 | UInt64(key.count) << 24, count: 4)
            pair = (out.count &- 2, 1)
            out.appendBytes(key)
        } else {
            pair = out.beginField(field)
            if escaped { out.appendStringField(1, json: key) } else { out.appendBytesField(1, key) }
        }
        let any = out.beginField(2)
        append(value, to: &out)
        out.endField(any)
        out.endField(pair)
    }

    private static func appendNumber<Output: ProtobufOutput>(_ value: UnsafeRawBufferPointer, to out: inout Output) {
        switch AnyValueWriter.number(value) {
        case .int(let integer):
            out.appendTag(3, .varint)
            out.appendVarint(UInt64(bitPattern: integer))
        case .double(let double):
            guard double.isFinite else { return out.appendBytesField(1, value) }
            out.appendFixed64(field: 4, double.bitPattern)
        }
    }
}
