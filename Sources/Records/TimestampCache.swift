import Glibc

/// RFC 3339 UTC text with milliseconds (`2026-11-24T10:00:00.123Z`) or microseconds. The date and
/// time part is formatted once per second; only the fraction changes in between.
package struct TimestampCache {
    private var cachedSecond = -1
    private var prefix: [UInt8] = []

    package init() {}

    /// The current time as JSON string bytes, quotes included.
    package mutating func now() -> [UInt8] {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(seconds: Int(spec.tv_sec), milliseconds: Int(spec.tv_nsec / 1_000_000))
    }

    package mutating func format(seconds: Int, milliseconds: Int) -> [UInt8] {
        updatePrefix(seconds)
        var text = prefix
        text.append(UInt8(ascii: "0") + UInt8(milliseconds / 100))
        text.append(UInt8(ascii: "0") + UInt8(milliseconds / 10 % 10))
        text.append(UInt8(ascii: "0") + UInt8(milliseconds % 10))
        text.append(UInt8(ascii: "Z"))
        text.append(UInt8(ascii: "\""))
        return text
    }

    /// `usec` since the epoch with microseconds (`"2026-12-03T06:01:02.123456Z"`, quotes included),
    /// appended to `out`: a journal entry's time.
    package mutating func append(microseconds usec: UInt64, to out: inout [UInt8]) {
        updatePrefix(Int(min(usec / 1_000_000, UInt64(Int32.max) * 100)))
        out.append(contentsOf: prefix)
        var micro = Int(usec % 1_000_000)
        var divisor = 100_000
        for _ in 0..<6 {
            out.append(UInt8(ascii: "0") + UInt8(micro / divisor))
            micro %= divisor
            divisor /= 10
        }
        out.append(UInt8(ascii: "Z"))
        out.append(UInt8(ascii: "\""))
    }

    private mutating func updatePrefix(_ seconds: Int) {
        if seconds != cachedSecond {
            cachedSecond = seconds
            var time = time_t(seconds)
            var parts = tm()
            gmtime_r(&time, &parts)
            prefix = Array(
                "\"\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))."
                    .utf8)
        }
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
