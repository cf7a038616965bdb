import Glibc
import Records

/// A JSON value as OTLP's `AnyValue` in OTLP's JSON encoding, its type kept: strings as `stringValue`
/// (the JSON text copied, escapes and all), integers that fit 64 bits as `intValue` (a decimal string,
/// as proto3's JSON mapping writes 64-bit integers), other numbers as `doubleValue`, `boolValue`,
/// objects as `kvlistValue`, arrays as `arrayValue`, null as an empty `AnyValue`.
package enum AnyValueWriter {
    /// `value` is one JSON value of a record we wrote (see `RecordMembers`). Inlined into the loops
    /// over members, with `appendKeyValue`: most values are scalars, and the calls cost more than
    /// writing them; a container goes to `appendContainer`.
    @inline(__always)
    package static func append<Output: ByteOutput>(_ value: UnsafeRawBufferPointer, to out: inout Output) {
        guard let first = value.first else { return out.appendLiteral("{}") }
        switch first {
        case UInt8(ascii: "\""):
            out.appendLiteral(#"{"stringValue":"#)
            out.appendBytes(value)
            out.append(UInt8(ascii: "}"))
        case UInt8(ascii: "t"): out.appendLiteral(#"{"boolValue":true}"#)
        case UInt8(ascii: "f"): out.appendLiteral(#"{"boolValue":false}"#)
        case UInt8(ascii: "n"): out.appendLiteral("{}")
        case UInt8(ascii: "{"), UInt8(ascii: "["): appendContainer(value, to: &out)
        default: appendNumber(value, to: &out)
        }
    }

    /// An object as a `kvlistValue`, an array as an `arrayValue`.
    @inline(never)
    private static func appendContainer<Output: ByteOutput>(_ value: UnsafeRawBufferPointer, to out: inout Output) {
        var separator = false
        if value.first == UInt8(ascii: "{") {
            out.appendLiteral(#"{"kvlistValue":{"values":["#)
            _ = RecordMembers.forEach(value) { member in
                if separator { out.append(UInt8(ascii: ",")) }
                separator = true
                appendKeyValue(
                    key: UnsafeRawBufferPointer(rebasing: value[member.key]), value: UnsafeRawBufferPointer(rebasing: value[member.value]), to: &out)
            }
        } else {
            out.appendLiteral(#"{"arrayValue":{"values":["#)
            _ = RecordMembers.forEachElement(value) { element in
                if separator { out.append(UInt8(ascii: ",")) }
                separator = true
                append(UnsafeRawBufferPointer(rebasing: value[element]), to: &out)
            }
        }
        out.appendLiteral("]}}")
    }

    /// `{"key":"<key>","value":<AnyValue>}`; `key` is the key's JSON text between its quotes. A string or
    /// a number, most values, is written with the literals around it joined, three appends fewer.
    @inline(__always)
    package static func appendKeyValue<Output: ByteOutput>(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, to out: inout Output) {
        out.appendLiteral(#"{"key":""#)
        out.appendBytes(key)
        switch value.first {
        case UInt8(ascii: "\"")?:
            out.appendLiteral(#"","value":{"stringValue":"#)
            out.appendBytes(value)
            out.appendLiteral("}}")
        case let first? where startsNumber(first):
            appendNumber(value, to: &out, inKeyValue: true)
        default:
            out.appendLiteral(#"","value":"#)
            append(value, to: &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let int64Max = Array("9223372036854775807".utf8)
    private static let int64MinMagnitude = Array("9223372036854775808".utf8)

    /// The number's `AnyValue`; `inKeyValue`: also the key-value's `","value":` before it and its `}` after.
    private static func appendNumber<Output: ByteOutput>(_ value: UnsafeRawBufferPointer, to out: inout Output, inKeyValue: Bool = false) {
        let shape = NumberShape(value)
        if shape.isInt64 {
            if inKeyValue { out.appendLiteral(#"","value":{"intValue":""#) } else { out.appendLiteral(#"{"intValue":""#) }
            out.appendBytes(value)
            if inKeyValue { out.appendLiteral("\"}}") } else { out.appendLiteral("\"}") }
        } else if isPlainDouble(shape, value) || double(value).isFinite {
            // Only a long number or one with an exponent can overflow a double; those are read to check.
            if inKeyValue { out.appendLiteral(#"","value":{"doubleValue":"#) } else { out.appendLiteral(#"{"doubleValue":"#) }
            out.appendBytes(value)
            if inKeyValue { out.appendLiteral("}}") } else { out.append(UInt8(ascii: "}")) }
        } else {
            // Past a double's range (1e400): a receiver would refuse the number; its text survives.
            if inKeyValue { out.appendLiteral(#"","value":{"stringValue":""#) } else { out.appendLiteral(#"{"stringValue":""#) }
            out.appendBytes(value)
            if inKeyValue { out.appendLiteral("\"}}") } else { out.appendLiteral("\"}") }
        }
    }

    /// Whether `first` begins a JSON number (a digit or a minus).
    @inline(__always)
    static func startsNumber(_ first: UInt8) -> Bool { first &- 0x30 < 10 || first == UInt8(ascii: "-") }

    /// Whether a number (`shape` of `value`) is written as a `doubleValue` as it is, without reading
    /// it: no integer that fits 64 bits, and no exponent (nor a length) that might take it past a
    /// double's range.
    @inline(__always)
    static func isPlainDouble(_ shape: NumberShape, _ value: UnsafeRawBufferPointer) -> Bool {
        !shape.isInt64 && !(shape.hasExponent || value.count > 300)
    }

    /// What one pass over a JSON number's text tells: whether it is an integer that fits 64 bits (no
    /// fraction or exponent), and whether it has an exponent.
    struct NumberShape {
        var isInt64 = false
        var hasExponent = false

        @inline(__always)
        init(_ value: UnsafeRawBufferPointer) {
            // Most numbers are integers of a few digits: up to eight are checked in two words that
            // overlap (bytes repeated as digits for one to three), loaded within the text.
            if let base = value.baseAddress, value.count >= 1, value.count <= 8 {
                let words: (UInt32, UInt32)
                if value.count >= 4 {
                    words = (base.loadUnaligned(as: UInt32.self), base.loadUnaligned(fromByteOffset: value.count &- 4, as: UInt32.self))
                } else {
                    // The first, middle and last bytes, each in two lanes.
                    let first = UInt32(base.load(as: UInt8.self))
                    let middle = UInt32(base.load(fromByteOffset: value.count >> 1, as: UInt8.self))
                    let last = UInt32(base.load(fromByteOffset: value.count &- 1, as: UInt8.self))
                    words = (first &* 0x0101 | middle &* 0x0101_0000, last &* 0x0101_0101)
                }
                if Self.allDigits(words.0), Self.allDigits(words.1) {
                    isInt64 = true
                    return
                }
                // A short number without an exponent (a fraction, or a sign): a validated number's
                // other bytes are digits, so a point makes it a double and none an integer that fits.
                if !Self.hasByte(words.0, 0x65, folded: true), !Self.hasByte(words.1, 0x65, folded: true) {
                    isInt64 = !Self.hasByte(words.0, 0x2E) && !Self.hasByte(words.1, 0x2E)
                    return
                }
            }
            let negative = value.first == UInt8(ascii: "-")
            let digits = UnsafeRawBufferPointer(rebasing: value[(negative ? 1 : 0)...])
            var integral = !digits.isEmpty
            for byte in digits where byte &- 0x30 > 9 {
                integral = false
                if byte | 0x20 == UInt8(ascii: "e") { hasExponent = true }
            }
            isInt64 = integral && AnyValueWriter.fitsInt64(digits, negative: negative)
        }

        /// Whether one of the four bytes of `word` is `byte`, or with `folded` `byte` in either case (a
        /// letter's 0x20 set in every byte first). A zero byte after the XOR marks it; a borrow makes
        /// false marks only above a true one.
        @inline(__always)
        static func hasByte(_ word: UInt32, _ byte: UInt8, folded: Bool = false) -> Bool {
            let bytes = (folded ? word | 0x2020_2020 : word) ^ (UInt32(byte) &* 0x0101_0101)
            return (bytes &- 0x0101_0101) & ~bytes & 0x8080_8080 != 0
        }

        /// Whether the four bytes of `word` are ASCII digits: XORed with 0x30 a digit is 0x00-0x09, and
        /// adding 6 carries any other low nibble into the high one (a carry out of a byte comes only
        /// from a byte that is no digit, itself marked).
        @inline(__always)
        static func allDigits(_ word: UInt32) -> Bool {
            let digits = word ^ 0x3030_3030
            return ((digits &+ 0x0606_0606) | digits) & 0xF0F0_F0F0 == 0
        }
    }

    /// Whether a JSON number's text has no fraction or exponent and fits 64 bits (`int64` without the
    /// value, which the JSON encoding does not need: it writes the text).
    static func isInt64(_ value: UnsafeRawBufferPointer) -> Bool { NumberShape(value).isInt64 }

    /// The integer a JSON number's text holds when it has no fraction or exponent and fits 64 bits.
    /// Up to 18 digits fit whatever they are: read in one pass (`Decimal`), where `NumberShape` went
    /// first (the protobuf writer's integers cost a hundred instructions each).
    static func int64(_ value: UnsafeRawBufferPointer) -> Int64? {
        if let integer = Decimal(value)?.integer { return integer }
        guard isInt64(value) else { return nil }
        let negative = value.first == UInt8(ascii: "-")
        var magnitude: UInt64 = 0
        for digit in UnsafeRawBufferPointer(rebasing: value[(negative ? 1 : 0)...]) { magnitude = magnitude &* 10 &+ UInt64(digit - 0x30) }
        return negative ? Int64(bitPattern: 0 &- magnitude) : Int64(bitPattern: magnitude)
    }

    /// A JSON number as protobuf's `AnyValue` takes it: an integer that fits 64 bits, else a double.
    enum Number {
        case int(Int64)
        case double(Double)
    }

    /// `int64` or else `double` of `value` in one pass for the common shapes (up to 18 digits without a
    /// point, up to 15 with one, no exponent), where the integer's reading stopped at a point and the
    /// double's began again; anything else through the two.
    @inline(__always)
    static func number(_ value: UnsafeRawBufferPointer) -> Number {
        if let decimal = Decimal(value) {
            if let integer = decimal.integer { return .int(integer) }
            if decimal.fraction > 0, let double = decimal.double { return .double(double) }
        }
        if let integer = int64(value) { return .int(integer) }
        return .double(double(value))
    }

    /// `double` of digits with at most one point (and a leading minus), 15 digits at most; nil for
    /// anything else.
    static func shortDouble(_ value: UnsafeRawBufferPointer) -> Double? { Decimal(value)?.double }

    /// A number of digits with at most one point after at least one digit (and a leading minus), read
    /// as an integer of its digits and how many follow the point (-1: no point).
    struct Decimal {
        var negative = false
        var digits = 0
        var fraction = -1
        var mantissa: UInt64 = 0

        /// Nil for any other text, and for no digit.
        @inline(__always)
        init?(_ value: UnsafeRawBufferPointer) {
            negative = value.first == UInt8(ascii: "-")
            for byte in UnsafeRawBufferPointer(rebasing: value[(negative ? 1 : 0)...]) {
                let digit = byte &- 0x30
                if digit < 10 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    digits &+= 1
                    if fraction >= 0 { fraction &+= 1 }
                } else if byte == UInt8(ascii: "."), fraction < 0 {
                    fraction = 0
                } else {
                    return nil
                }
            }
            guard digits >= 1 else { return nil }
        }

        /// The integer it is, when it has no point and at most 18 digits (which fit 64 bits whatever
        /// they are).
        @inline(__always)
        var integer: Int64? {
            guard fraction < 0, digits <= 18 else { return nil }
            return negative ? Int64(bitPattern: 0 &- mantissa) : Int64(bitPattern: mantissa)
        }

        /// The double it is, when it has at most 15 digits and, after a point, at least one.
        @inline(__always)
        var double: Double? {
            guard digits <= 15, fraction != 0 else { return nil }
            let magnitude = fraction > 0 ? Double(mantissa) / AnyValueWriter.powersOfTen[fraction] : Double(mantissa)
            return negative ? -magnitude : magnitude
        }
    }

    /// 10^0 to 10^15, each exact as a double.
    fileprivate static let powersOfTen: [Double] = (0...15).map { exponent in (0..<exponent).reduce(1.0) { value, _ in value * 10 } }

    fileprivate static func fitsInt64(_ digits: UnsafeRawBufferPointer, negative: Bool) -> Bool {
        if digits.count < 19 { return true }
        if digits.count > 19 { return false }
        return !(negative ? int64MinMagnitude : int64Max).lexicographicallyPrecedes(digits)
    }

    /// A JSON number's text as a double (`strtod`; infinite past the range). A number without an
    /// exponent of at most 15 digits is its digits as an integer (below 2^53, exact) divided by a power
    /// of ten up to 10^15 (exact too): one correctly rounded division, which is the double `strtod`
    /// reads (Clinger's fast path), without copying the text and calling it.
    static func double(_ value: UnsafeRawBufferPointer) -> Double {
        if let fast = shortDouble(value) { return fast }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: value.count + 1) { text -> Double in
            guard let base = text.baseAddress else { return .nan }
            for (index, byte) in value.enumerated() { base[index] = CChar(bitPattern: byte) }
            base[value.count] = 0
            return strtod(base, nil)
        }
    }
}
