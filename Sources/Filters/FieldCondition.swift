import Configuration
import Glibc
import Records

/// `field` with `equals` or `matches`, compiled: what drop and keep test, and what sample and throttle
/// let through (`unless`). A missing field never matches.
struct FieldCondition {
    enum Test {
        case equals(ScalarSet)
        case matches(PCRERegex)
    }

    let path: FieldPath
    let test: Test

    init(_ condition: FilterCondition) throws(PCRERegex.CompileError) {
        path = FieldPath(condition.field)
        switch condition.test {
        case .equals(let values): test = .equals(ScalarSet(values))
        case .matches(let pattern): test = .matches(try PCRERegex(pattern))
        }
    }

    func holds(for record: inout FilterRecord, spare: inout FilterRecord) -> Bool {
        guard let range = record.readableValueRange(path, spare: &spare) else { return false }
        return record.bytes.withUnsafeBytes { raw in
            let value = UnsafeRawBufferPointer(rebasing: raw[range])
            switch test {
            case .equals(let set): return set.contains(value)
            case .matches(let regex):
                // A string's text, or a number's JSON text as the line wrote it; nothing else matches.
                switch value[0] {
                case UInt8(ascii: "\""):
                    return StringValue.withText(value) { regex.matches($0) }
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    return regex.matches(value)
                default:
                    return false
                }
            }
        }
    }
}

/// The scalars of an `equals` list, ready to compare with a value's JSON bytes: strings by their text
/// (however the line escaped it), numbers by value, `true`, `false` and `null` as they are.
struct ScalarSet {
    private var strings: [[UInt8]] = []
    private var numbers: [DecimalNumber] = []
    private var literals: [[UInt8]] = []

    init(_ values: [JSONValue]) {
        for value in values {
            switch value {
            case .string(let text): strings.append(Array(text.utf8))
            case .number(let text): if let number = DecimalNumber(text) { numbers.append(number) }
            case .bool, .null: literals.append(Array(value.serialized.utf8))
            case .array, .object: break
            }
        }
    }

    func contains(_ value: UnsafeRawBufferPointer) -> Bool {
        switch value[0] {
        case UInt8(ascii: "\""):
            guard !strings.isEmpty else { return false }
            return StringValue.withText(value) { text in
                strings.contains { candidate in
                    candidate.count == text.count
                        && candidate.withUnsafeBytes { text.isEmpty || memcmp($0.baseAddress!, text.baseAddress!, text.count) == 0 }
                }
            }
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            return literals.contains { $0.elementsEqual(value) }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            return false
        default:
            guard !numbers.isEmpty, let number = DecimalNumber(value) else { return false }
            return numbers.contains(number)
        }
    }
}

/// A JSON string value's text: its bytes between the quotes when it has no escape (nearly always), else
/// decoded.
enum StringValue {
    static func withText<Result>(_ quoted: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let content = UnsafeRawBufferPointer(rebasing: quoted[1..<(quoted.count - 1)])
        guard !content.isEmpty, memchr(content.baseAddress!, Int32(UInt8(ascii: "\\")), content.count) != nil else { return body(content) }
        var text: [UInt8] = []
        JSONUnescape.append(content, to: &text)
        return text.withUnsafeBytes(body)
    }
}
