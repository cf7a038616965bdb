import Configuration
import Glibc
import Records

/// `field` with `equals` or `matches`, compiled: what drop and keep test, and what sample and throttle
/// let through (`unless`). A missing field never matches.
struct FieldCondition {
    let path: FieldPath
    /// One of the two is set. Not an enum of the two: with two class payloads, Swift keeps the case in
    /// the reference's spare bits, and the leak checker of the fuzz build then finds no pointer to the
    /// pattern and reports it lost.
    private let set: ScalarSet?
    private let regex: PCRERegex?
    /// `set` and `regex`, lent to each test without a retain and a release around it (the two hold them).
    let unretainedSet: Unmanaged<ScalarSet>?
    let unretainedRegex: Unmanaged<PCRERegex>?

    init(_ condition: FilterCondition) throws(PCRERegex.CompileError) {
        path = FieldPath(condition.field)
        switch condition.test {
        case .equals(let values): (set, regex) = (ScalarSet(values), nil)
        case .matches(let pattern): (set, regex) = (nil, try PCRERegex(pattern))
        }
        unretainedSet = set.map { Unmanaged.passUnretained($0) }
        unretainedRegex = regex.map { Unmanaged.passUnretained($0) }
    }

    func holds(for record: inout FilterRecord, spare: inout FilterRecord) -> Bool {
        guard let range = record.readableValueRange(path, spare: &spare) else { return false }
        let plain = record.bytes.isPlain
        return record.bytes.withUnsafeBytes { test(UnsafeRawBufferPointer(rebasing: $0[range]), plain: plain) }
    }

    /// Whether `value` (a field's JSON text; `plain`: from a plain line) passes the test.
    func test(_ value: UnsafeRawBufferPointer, plain: Bool) -> Bool {
        Self.test(value, plain: plain, set: unretainedSet, regex: unretainedRegex)
    }

    /// `test` given the condition's set or pattern, the one it has (`FilterScreen` keeps them so).
    @inline(__always)
    static func test(_ value: UnsafeRawBufferPointer, plain: Bool, set: Unmanaged<ScalarSet>?, regex: Unmanaged<PCRERegex>?) -> Bool {
        // Each closure captures only what it reads: one over a struct of arrays copied it (a retain of
        // each array) for every record.
        if let set { return set._withUnsafeGuaranteedRef { $0.contains(value, plain: plain) } }
        guard let regex else { return false }
        return regex._withUnsafeGuaranteedRef { matches($0, value, plain: plain) }
    }

    /// A string's text, or a number's JSON text as the line wrote it; nothing else matches.
    private static func matches(_ regex: PCRERegex, _ value: UnsafeRawBufferPointer, plain: Bool) -> Bool {
        switch value[0] {
        case UInt8(ascii: "\""):
            return StringValue.withText(value, plain: plain) { regex.matches($0, isASCII: plain) }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return regex.matches(value, isASCII: plain)
        default:
            return false
        }
    }
}

/// The scalars of an `equals` list, ready to compare with a value's JSON bytes: strings by their text
/// (however the line escaped it), numbers by value, `true`, `false` and `null` as they are. A class: a
/// condition hands it to its test with one retain, not one for each of its arrays.
final class ScalarSet {
    /// The strings in one table: no array of arrays whose every element is retained as it is compared.
    private let strings: KeyTable
    /// Their lengths and first bytes: most unescaped values that are none of them are decided without
    /// a comparison.
    private let stringFilter: KeyFilter
    private let numbers: [DecimalNumber]
    private let literals: [[UInt8]]

    init(_ values: [JSONValue]) {
        var strings: [[UInt8]] = []
        var numbers: [DecimalNumber] = []
        var literals: [[UInt8]] = []
        for value in values {
            switch value {
            case .string(let text):
                strings.append(Array(text.utf8))
            case .number(let text): if let number = DecimalNumber(text) { numbers.append(number) }
            case .bool, .null: literals.append(Array(value.serialized.utf8))
            case .array, .object: break
            }
        }
        self.strings = KeyTable(strings)
        stringFilter = KeyFilter(strings)
        self.numbers = numbers
        self.literals = literals
    }

    /// `plain`: `value` is from a plain line (`RecordBytes.isPlain`).
    func contains(_ value: UnsafeRawBufferPointer, plain: Bool) -> Bool {
        switch value[0] {
        case UInt8(ascii: "\""):
            // The filter holds the strings as text, so it rules out a decoded value as well.
            return StringValue.withText(value, plain: plain) { stringFilter.mayMatch($0.count, $0[0]) && strings.contains($0) }
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
/// decoded. `plain`: the value is from a plain line, which has no backslash to look for.
enum StringValue {
    @inline(__always)
    static func withText<Result>(_ quoted: UnsafeRawBufferPointer, plain: Bool, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let content = UnsafeRawBufferPointer(rebasing: quoted[1..<(quoted.count - 1)])
        guard !plain, !content.isEmpty, memchr(content.baseAddress!, Int32(UInt8(ascii: "\\")), content.count) != nil else { return body(content) }
        var text: [UInt8] = []
        JSONUnescape.append(content, to: &text)
        return text.withUnsafeBytes(body)
    }
}
