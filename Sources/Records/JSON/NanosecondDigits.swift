/// Times in nanoseconds since the epoch written in decimal, as OTLP's JSON and Loki write a record's
/// time, with the digits of the second kept from the call before: the records of a batch mostly
/// share their second. Nineteen digits written afresh take nine divisions; the nine below the second
/// are always nine, and written without a loop's test.
public struct NanosecondDigits {
    /// The second whose digits `digits` holds; 0 when none is kept (a value below one second is
    /// written whole).
    @usableFromInline var second: UInt64 = 0
    /// Room for the eleven digits of the largest second (`UInt64.max` nanoseconds is in 2554).
    @usableFromInline var digits: (UInt64, UInt64) = (0, 0)
    @usableFromInline var count = 0
    /// The date and clock (the words at 0, 8 and 11) of an RFC 3339 time in UTC read as `second`
    /// (`note`), while `hasClock`: its fraction alone gives the nine digits after the second's.
    @usableFromInline var clock: (UInt64, UInt64, UInt64) = (0, 0, 0)
    @usableFromInline var hasClock = false

    @inlinable public init() {}

    /// Appends `value` in decimal to `out`: the same digits as `appendDecimal`.
    @inlinable
    public mutating func append<Output: ByteOutput>(_ value: UInt64, to out: inout Output) {
        let second = value / 1_000_000_000
        guard second > 0 else { return out.appendDecimal(value) }
        if second != self.second { keep(second) }
        let count = self.count
        withUnsafeBytes(of: digits) { out.appendBytes(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        out.appendNineDigits(UInt32(truncatingIfNeeded: value % 1_000_000_000))
    }

    @usableFromInline
    mutating func keep(_ second: UInt64) {
        var text: [UInt8] = []
        text.appendDecimal(second)
        self.second = second
        hasClock = false
        count = text.count
        withUnsafeMutableBytes(of: &digits) { $0.copyBytes(from: text) }
    }
}
