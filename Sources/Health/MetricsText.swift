import Records
import Synchronization

/// Prometheus's text format (0.0.4) written as bytes: a family's HELP and TYPE lines, then its samples,
/// each a name, labels and a value. Names, types and help texts are static; label values are escaped.
struct MetricsText {
    private(set) var bytes: [UInt8] = []
    private var labelsOpen = false

    init() { bytes.reserveCapacity(8 * 1024) }

    /// "# HELP name help" and "# TYPE name type".
    mutating func family(_ name: StaticString, _ type: StaticString, _ help: StaticString) {
        append("# HELP ")
        append(name)
        append(" ")
        append(help)
        append("\n# TYPE ")
        append(name)
        append(" ")
        append(type)
        append("\n")
    }

    /// A family of one sample without labels.
    mutating func single(_ name: StaticString, _ type: StaticString, _ help: StaticString, _ value: Int) {
        family(name, type, help)
        start(name)
        end(value)
    }

    /// A counter of one sample without labels, read from its atomic.
    mutating func counter(_ name: StaticString, _ help: StaticString, _ value: borrowing Atomic<Int>) {
        single(name, "counter", help, value.load(ordering: .relaxed))
    }

    /// A gauge of one sample without labels, read from its atomic.
    mutating func gauge(_ name: StaticString, _ help: StaticString, _ value: borrowing Atomic<Int>) {
        single(name, "gauge", help, value.load(ordering: .relaxed))
    }

    /// A family of one sample per value of one label (per sink, per filter).
    mutating func labelled(_ name: StaticString, _ type: StaticString, _ help: StaticString, _ key: StaticString, _ samples: [(String, Int)]) {
        family(name, type, help)
        for (value, number) in samples {
            start(name)
            label(key, value)
            end(number)
        }
    }

    /// A sample's name (`suffix`: a histogram's `_bucket`, `_sum`, `_count`); labels and a value follow.
    mutating func start(_ name: StaticString, _ suffix: StaticString = "") {
        append(name)
        append(suffix)
        labelsOpen = false
    }

    /// `key="value"`, the value escaped as the format asks (backslash, double quote, newline).
    mutating func label(_ key: StaticString, _ value: String) {
        bytes.append(labelsOpen ? UInt8(ascii: ",") : UInt8(ascii: "{"))
        labelsOpen = true
        append(key)
        append("=\"")
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append("\\\\")
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\n"): append("\\n")
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func end(_ value: Int) {
        closeLabels()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        bytes.appendDecimal(UInt64(value.magnitude))
        bytes.append(UInt8(ascii: "\n"))
    }

    /// A value that is not an integer (a histogram's sum of seconds), as Swift prints it.
    mutating func end(_ value: Double) {
        closeLabels()
        bytes.append(contentsOf: "\(value)".utf8)
        bytes.append(UInt8(ascii: "\n"))
    }

    private mutating func closeLabels() {
        if labelsOpen { bytes.append(UInt8(ascii: "}")) }
        bytes.append(UInt8(ascii: " "))
    }

    private mutating func append(_ text: StaticString) { bytes.appendLiteral(text) }
}
