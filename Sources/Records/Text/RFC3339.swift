import Glibc

/// RFC 3339 timestamps (`2026-11-28T13:22:06.123456789Z`, `…+02:00`, a space for the `T`) as
/// nanoseconds since the epoch, for OTLP's `timeUnixNano` and Loki's entry time. Anything else is nil:
/// the caller then leaves the time out or uses the processing time.
package enum RFC3339 {
    /// `text` is the string's content between its quotes. The date and the clock, at fixed places,
    /// are read eight bytes at a time (three overlapping words): their digits checked and their
    /// separators compared at once, each digit then a shift and a mask away; a byte by byte reading of
    /// them took about 300 instructions a time.
    package static func nanoseconds(_ text: UnsafeRawBufferPointer) -> UInt64? {
        var memo = SecondsMemo()
        return nanoseconds(text, memo: &memo)
    }

    /// The last date and clock read (their three words) and their seconds since 1970 before any
    /// offset: a record's time mostly shares its second with the one before, and then only its
    /// fraction and zone are read.
    package struct SecondsMemo {
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        /// -1: nothing read yet.
        var seconds = -1

        package init() {}
    }

    /// `nanoseconds`, with the seconds of a date and clock the same as the last ones taken from `memo`.
    package static func nanoseconds(_ text: UnsafeRawBufferPointer, memo: inout SecondsMemo) -> UInt64? {
        let count = text.count
        guard count >= 20, let base = text.baseAddress else { return nil }
        // "YYYY-MM-", "DDThh:mm", "hh:mm:ss"; the first byte lowest.
        let date = base.loadUnaligned(as: UInt64.self) ^ asciiZeros
        let middle = base.loadUnaligned(fromByteOffset: 8, as: UInt64.self) ^ asciiZeros
        let clock = base.loadUnaligned(fromByteOffset: 11, as: UInt64.self) ^ asciiZeros
        if memo.seconds >= 0, date == memo.words.0, middle == memo.words.1, clock == memo.words.2 {
            // In UTC with a fraction of up to nine digits (most times), the fraction a word at a time.
            if memo.seconds < maximumSeconds, let fraction = NanosecondDigits.utcFraction(text) {
                return UInt64(memo.seconds) &* 1_000_000_000 &+ fraction.nanoseconds
            }
            return finish(text, seconds: memo.seconds)
        }
        // The scanner's digit test on each word. (A carry out of a lane comes only from a lane that is
        // no digit or separator, rejected anyway.)
        func notDigits(_ word: UInt64, _ lanes: UInt64) -> UInt64 { JSONStructure.notDigits(word, lanes: lanes) }
        guard notDigits(date, 0x00FF_FF00_FFFF_FFFF) | notDigits(middle, 0x0000_0000_0000_FFFF) | notDigits(clock, 0xFFFF_00FF_FF00_FFFF) == 0,
            // The dashes (0x2D ^ 0x30) and the colons (0x3A ^ 0x30).
            date & 0xFF00_00FF_0000_0000 == 0x1D00_001D_0000_0000, clock & 0x0000_FF00_00FF_0000 == 0x0000_0A00_000A_0000,
            text[10] == UInt8(ascii: "T") || text[10] == UInt8(ascii: "t") || text[10] == UInt8(ascii: " ")
        else { return nil }
        func digit(_ word: UInt64, _ lane: Int) -> Int { Int(truncatingIfNeeded: (word >> UInt64(8 &* lane)) & 0xFF) }
        func pair(_ word: UInt64, _ lane: Int) -> Int { digit(word, lane) &* 10 &+ digit(word, lane &+ 1) }
        let year = pair(date, 0) &* 100 &+ pair(date, 2)
        let month = pair(date, 5)
        let day = pair(middle, 0)
        let hour = pair(clock, 0)
        let minute = pair(clock, 3)
        let second = pair(clock, 6)
        guard (1...12).contains(month), day >= 1, day <= daysIn(month, year), hour < 24, minute < 60, second <= 60 else { return nil }
        let seconds = Self.seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        memo.words = (date, middle, clock)
        memo.seconds = seconds
        return finish(text, seconds: seconds)
    }

    private static let asciiZeros: UInt64 = 0x3030_3030_3030_3030

    /// The `length` digits at `at` as a number; nil when one is no digit.
    private static func decimal(_ text: UnsafeRawBufferPointer, _ at: Int, _ length: Int) -> Int? {
        var value = 0
        for index in at..<(at + length) {
            let byte = text[index]
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    /// A date's and a clock's seconds since 1970 (a leap second is the one before it).
    private static func seconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int {
        daysSinceEpoch(year, month, day) * 86_400 + hour * 3600 + minute * 60 + min(second, 59)
    }

    /// The fraction, the zone and the sum, after the date and the clock (19 bytes) were read as
    /// `seconds` (`seconds(year:…)`).
    private static func finish(_ text: UnsafeRawBufferPointer, seconds local: Int) -> UInt64? {
        let count = text.count
        func digits(_ at: Int, _ length: Int) -> Int? { decimal(text, at, length) }
        var index = 19
        var fraction: UInt64 = 0
        if index < count && text[index] == UInt8(ascii: ".") {
            index += 1
            var scale: UInt64 = 100_000_000
            let start = index
            while index < count, text[index] >= 0x30 && text[index] <= 0x39 {
                fraction += UInt64(text[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < count else { return nil }
        var offsetSeconds = 0
        switch text[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == count, let hours = digits(index + 1, 2), text[index + 3] == 0x3A, let minutes = digits(index + 4, 2),
                hours < 24, minutes < 60
            else { return nil }
            offsetSeconds = (hours * 3600 + minutes * 60) * (text[index] == UInt8(ascii: "+") ? 1 : -1)
            index = count
        default: return nil
        }
        guard index == count else { return nil }
        let seconds = local - offsetSeconds
        // Nanoseconds since 1970 fit 64 bits until 2554: a later year is no time we can send.
        guard seconds >= 0, seconds < maximumSeconds else { return nil }
        return UInt64(seconds) * 1_000_000_000 + fraction
    }

    /// `nanoseconds` one byte at a time: the reference the unit test and the fuzz target `time` hold
    /// the word-wide reading of the date and clock to.
    package static func nanosecondsBytewise(_ text: UnsafeRawBufferPointer) -> UInt64? {
        let count = text.count
        guard count >= 20 else { return nil }
        func digits(_ at: Int, _ length: Int) -> Int? { decimal(text, at, length) }
        guard let year = digits(0, 4), text[4] == 0x2D, let month = digits(5, 2), text[7] == 0x2D, let day = digits(8, 2),
            text[10] == UInt8(ascii: "T") || text[10] == UInt8(ascii: "t") || text[10] == UInt8(ascii: " "),
            let hour = digits(11, 2), text[13] == 0x3A, let minute = digits(14, 2), text[16] == 0x3A, let second = digits(17, 2),
            (1...12).contains(month), day >= 1, day <= daysIn(month, year), hour < 24, minute < 60, second <= 60
        else { return nil }
        return finish(text, seconds: seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
    }

    /// The first second whose nanoseconds do not fit in 64 bits (in 2554).
    package static let maximumSeconds = Int(UInt64.max / 1_000_000_000)

    /// Howard Hinnant's days_from_civil.
    package static func daysSinceEpoch(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    package static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Now, for a record without a processing time.
    package static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(max(0, time.tv_sec)) * 1_000_000_000 + UInt64(max(0, time.tv_nsec))
    }
}
