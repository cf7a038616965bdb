/// A JSON number's value in the form every spelling of it shares, so `equals` compares numbers by value
/// without rounding through a Double: `500`, `5e2`, `500.0` and `5.00E+2` are all digits "5", exponent 2.
struct DecimalNumber: Equatable {
    var negative = false
    /// Significant digits, without leading or trailing zeros; empty for zero.
    var digits: [UInt8] = []
    var exponent = 0

    /// `text` is a number as JSON writes it (`JSONScanner` or `JSONParser` validated it).
    init?(_ text: UnsafeRawBufferPointer) {
        var index = 0
        let count = text.count
        if index < count, text[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var fractionDigits = 0
        var sawDigit = false
        while index < count, text[index] &- UInt8(ascii: "0") < 10 {
            if !digits.isEmpty || text[index] != UInt8(ascii: "0") { digits.append(text[index]) }
            index += 1
            sawDigit = true
        }
        if index < count, text[index] == UInt8(ascii: ".") {
            index += 1
            while index < count, text[index] &- UInt8(ascii: "0") < 10 {
                if !digits.isEmpty || text[index] != UInt8(ascii: "0") { digits.append(text[index]) }
                fractionDigits += 1
                index += 1
            }
        }
        guard sawDigit else { return nil }
        var written = 0
        if index < count, text[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            var exponentNegative = false
            if index < count, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
                exponentNegative = text[index] == UInt8(ascii: "-")
                index += 1
            }
            // An exponent beyond a billion says nothing a log filter could tell apart: saturate.
            while index < count, text[index] &- UInt8(ascii: "0") < 10 {
                written = min(written * 10 + Int(text[index] &- UInt8(ascii: "0")), 1_000_000_000)
                index += 1
            }
            if exponentNegative { written = -written }
        }
        guard index == count else { return nil }
        var trailing = 0
        while trailing < digits.count, digits[digits.count - 1 - trailing] == UInt8(ascii: "0") { trailing += 1 }
        digits.removeLast(trailing)
        if digits.isEmpty {
            negative = false
            return
        }
        exponent = written - fractionDigits + trailing
    }

    init?(_ text: String) {
        var copy = text
        guard let value = copy.withUTF8({ DecimalNumber(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = value
    }
}
