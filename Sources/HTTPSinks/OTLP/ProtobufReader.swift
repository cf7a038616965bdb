/// Reads protobuf fields one after the other (a response's few); stops at anything malformed.
package struct ProtobufReader {
    package enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case other
    }

    package private(set) var bytes: ArraySlice<UInt8>

    package init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    /// The first length-delimited field `number` of `bytes`.
    package static func field(_ number: UInt64, in bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var reader = ProtobufReader(bytes)
        while let (field, value) = reader.next() {
            if field == number, case .bytes(let content) = value { return content }
        }
        return nil
    }

    /// `ExportLogsServiceResponse { partial_success = 1 { rejected_log_records = 1; error_message = 2 } }`:
    /// the rejected count and message when the count is above 0.
    package static func partialSuccess(_ body: [UInt8]) -> (Int, String)? {
        guard let partial = field(1, in: body[...]) else { return nil }
        var rejected = 0
        var message = ""
        var reader = ProtobufReader(partial)
        while let (field, value) = reader.next() {
            switch (field, value) {
            case (1, .varint(let count)): rejected = Int(truncatingIfNeeded: count)
            case (2, .bytes(let text)): message = String(decoding: text, as: UTF8.self)
            default: break
            }
        }
        guard rejected > 0 else { return nil }
        return (rejected, message.isEmpty ? "\(rejected) records rejected" : message)
    }

    /// The next field and its value; nil at the end or at anything malformed.
    package mutating func next() -> (UInt64, Value)? {
        guard let tag = varint() else { return nil }
        switch tag & 7 {
        case 0: return varint().map { (tag >> 3, .varint($0)) }
        case 1: return skip(8).map { (tag >> 3, $0) }
        case 5: return skip(4).map { (tag >> 3, $0) }
        case 2:
            guard let length = varint(), length <= UInt64(bytes.count) else { return nil }
            let content = bytes.prefix(Int(length))
            bytes = bytes.dropFirst(Int(length))
            return (tag >> 3, .bytes(content))
        default: return nil
        }
    }

    private mutating func skip(_ count: Int) -> Value? {
        guard bytes.count >= count else { return nil }
        bytes = bytes.dropFirst(count)
        return .other
    }

    private mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.first, shift < 64 {
            bytes = bytes.dropFirst()
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }
}
