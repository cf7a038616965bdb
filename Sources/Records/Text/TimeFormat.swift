/// `time_format`: how a record's own time is written, for the sinks that carry an event time (OTLP's
/// `timeUnixNano`, Loki's entry timestamp). Values become nanoseconds since the epoch; a value that does
/// not parse is nil, and the sink keeps the processing time.
package enum TimeFormat: Sendable, Equatable {
    case rfc3339
    /// Seconds (fractions allowed), milliseconds, microseconds, nanoseconds: numbers or numeric strings.
    case unix, unixMs, unixUs, unixNs
    /// A strftime-style pattern, read as strptime would, with `%L` for milliseconds.
    case pattern(String, [Piece])

    package enum Piece: Sendable, Equatable {
        case literal(UInt8)
        /// One or more blanks (a blank in the pattern).
        case blanks
        case year, year2, month, monthName, day, hour, minute, second, milliseconds, fraction, offset, weekdayName, epochSeconds
    }

    package struct PatternError: Error, CustomStringConvertible {
        package let description: String
    }

    private static let names: [(String, TimeFormat)] = [
        ("rfc3339", .rfc3339), ("unix", .unix), ("unix_ms", .unixMs), ("unix_us", .unixUs), ("unix_ns", .unixNs),
    ]

    /// A name (`rfc3339`, `unix`, `unix_ms`, `unix_us`, `unix_ns`) or a pattern with at least one `%`.
    package init(_ text: String) throws(PatternError) {
        if let named = Self.names.first(where: { $0.0 == text }) {
            self = named.1
            return
        }
        guard text.contains("%") else {
            throw PatternError(description: "expected rfc3339, unix, unix_ms, unix_us, unix_ns or a strftime pattern such as %Y-%m-%d %H:%M:%S,%L")
        }
        var pieces: [Piece] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == 0x20 || byte == 0x09 {
                if pieces.last != .blanks { pieces.append(.blanks) }
                continue
            }
            guard byte == UInt8(ascii: "%") else {
                pieces.append(.literal(byte))
                continue
            }
            guard index < bytes.count else { throw PatternError(description: "the pattern ends with a lone %") }
            let letter = bytes[index]
            index += 1
            switch letter {
            case UInt8(ascii: "Y"): pieces.append(.year)
            case UInt8(ascii: "y"): pieces.append(.year2)
            case UInt8(ascii: "m"): pieces.append(.month)
            case UInt8(ascii: "b"), UInt8(ascii: "h"), UInt8(ascii: "B"): pieces.append(.monthName)
            case UInt8(ascii: "d"), UInt8(ascii: "e"): pieces.append(.day)
            case UInt8(ascii: "H"): pieces.append(.hour)
            case UInt8(ascii: "M"): pieces.append(.minute)
            case UInt8(ascii: "S"): pieces.append(.second)
            case UInt8(ascii: "L"): pieces.append(.milliseconds)
            case UInt8(ascii: "f"): pieces.append(.fraction)
            case UInt8(ascii: "z"): pieces.append(.offset)
            case UInt8(ascii: "a"), UInt8(ascii: "A"): pieces.append(.weekdayName)
            case UInt8(ascii: "s"): pieces.append(.epochSeconds)
            case UInt8(ascii: "T"): pieces += [.hour, .literal(0x3A), .minute, .literal(0x3A), .second]
            case UInt8(ascii: "F"): pieces += [.year, .literal(0x2D), .month, .literal(0x2D), .day]
            case UInt8(ascii: "%"): pieces.append(.literal(letter))
            default:
                throw PatternError(
                    description: "%\(Character(Unicode.Scalar(letter))) is not supported; use %Y %y %m %b %d %e %H %M %S %L %f %z %a %s %T %F %%")
            }
        }
        self = .pattern(text, pieces)
    }

    /// The name or pattern as the configuration gives it.
    package var text: String {
        if case .pattern(let text, _) = self { return text }
        return Self.names.first { $0.1 == self }?.0 ?? "rfc3339"
    }

    /// `value`: a string's content between its quotes, or a number's text (`isString` false).
    package func nanoseconds(_ value: UnsafeRawBufferPointer, isString: Bool) -> UInt64? {
        var memo = RFC3339.SecondsMemo()
        return nanoseconds(value, isString: isString, memo: &memo)
    }

    /// `nanoseconds`, an RFC 3339 time's seconds taken from `memo` when its date and clock are the
    /// last ones (`RFC3339.SecondsMemo`): for a reader of one record after another.
    package func nanoseconds(_ value: UnsafeRawBufferPointer, isString: Bool, memo: inout RFC3339.SecondsMemo) -> UInt64? {
        switch self {
        case .rfc3339: return isString ? RFC3339.nanoseconds(value, memo: &memo) : nil
        case .unix: return Self.decimal(value, scale: 1_000_000_000)
        case .unixMs: return Self.decimal(value, scale: 1_000_000)
        case .unixUs: return Self.decimal(value, scale: 1_000)
        case .unixNs: return Self.decimal(value, scale: 1)
        case .pattern(_, let pieces): return isString ? Self.parse(value, pieces) : nil
        }
    }

    /// `digits[.digits]` times `scale` nanoseconds; nil for anything else or past the year 2554.
    static func decimal(_ text: UnsafeRawBufferPointer, scale: UInt64) -> UInt64? {
        var index = 0
        var whole: UInt64 = 0
        while index < text.count, let digit = Self.digit(text[index]) {
            let (times, overflow) = whole.multipliedReportingOverflow(by: 10)
            guard !overflow, times <= UInt64.max - digit else { return nil }
            whole = times + digit
            index += 1
        }
        guard index > 0 else { return nil }
        let (base, overflow) = whole.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        var fraction: UInt64 = 0
        if index < text.count && text[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            var unit = scale
            while index < text.count, let digit = Self.digit(text[index]) {
                unit /= 10
                fraction += digit * unit
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index == text.count, base <= UInt64.max - fraction else { return nil }
        return base + fraction
    }

    @inline(__always)
    private static func digit(_ byte: UInt8) -> UInt64? { byte >= 0x30 && byte <= 0x39 ? UInt64(byte - 0x30) : nil }

    package static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].map { Array($0.utf8) }
    static let fullMonths = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
    ].map { Array($0.utf8) }
    package static let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"].map { Array($0.utf8) }
    static let fullWeekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"].map { Array($0.utf8) }

    private static func parse(_ text: UnsafeRawBufferPointer, _ pieces: [Piece]) -> UInt64? {
        var index = 0
        var (year, month, day, hour, minute, second) = (1970, 1, 1, 0, 0, 0)
        var nanos: UInt64 = 0
        var offset = 0
        var epoch: Int?
        func number(_ most: Int, least: Int = 1) -> Int? {
            let start = index
            var value = 0
            while index < text.count, index - start < most, let digit = digit(text[index]) {
                value = value * 10 + Int(digit)
                index += 1
            }
            return index - start >= least ? value : nil
        }
        func name(_ full: [[UInt8]], _ short: [[UInt8]]) -> Int? {
            for table in [full, short] {
                for (position, word) in table.enumerated() where index + word.count <= text.count {
                    var equal = true
                    for (at, letter) in word.enumerated() where text[index + at] | 0x20 != letter {
                        equal = false
                        break
                    }
                    if equal {
                        index += word.count
                        return position
                    }
                }
            }
            return nil
        }
        for piece in pieces {
            switch piece {
            case .literal(let byte):
                guard index < text.count, text[index] == byte else { return nil }
                index += 1
            case .blanks:
                let start = index
                while index < text.count && (text[index] == 0x20 || text[index] == 0x09) { index += 1 }
                guard index > start else { return nil }
            case .year:
                guard let value = number(4, least: 4) else { return nil }
                year = value
            case .year2:
                guard let value = number(2, least: 2) else { return nil }
                // POSIX: 69–99 are the 1900s, 00–68 the 2000s.
                year = value < 69 ? 2000 + value : 1900 + value
            case .month:
                guard let value = number(2) else { return nil }
                month = value
            case .monthName:
                guard let value = name(fullMonths, months) else { return nil }
                month = value + 1
            case .day:
                if index < text.count && text[index] == 0x20 { index += 1 }
                guard let value = number(2) else { return nil }
                day = value
            case .hour:
                guard let value = number(2) else { return nil }
                hour = value
            case .minute:
                guard let value = number(2) else { return nil }
                minute = value
            case .second:
                guard let value = number(2) else { return nil }
                second = value
            case .milliseconds:
                guard let value = number(3, least: 3) else { return nil }
                nanos = UInt64(value) * 1_000_000
            case .fraction:
                let start = index
                var unit: UInt64 = 1_000_000_000
                nanos = 0
                while index < text.count, let digit = digit(text[index]) {
                    unit /= 10
                    nanos += digit * unit
                    index += 1
                }
                guard index > start else { return nil }
            case .offset:
                guard index < text.count else { return nil }
                let sign = text[index]
                if sign == UInt8(ascii: "Z") || sign == UInt8(ascii: "z") {
                    index += 1
                    offset = 0
                    continue
                }
                guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
                index += 1
                guard let hours = number(2, least: 2) else { return nil }
                if index < text.count && text[index] == UInt8(ascii: ":") { index += 1 }
                guard let minutes = number(2, least: 2), hours < 24, minutes < 60 else { return nil }
                offset = (hours * 3600 + minutes * 60) * (sign == UInt8(ascii: "+") ? 1 : -1)
            case .weekdayName:
                guard name(fullWeekdays, weekdays) != nil else { return nil }
            case .epochSeconds:
                guard let value = number(12) else { return nil }
                epoch = value
            }
        }
        guard index == text.count else { return nil }
        if let epoch { return epoch < RFC3339.maximumSeconds ? UInt64(epoch) * 1_000_000_000 + nanos : nil }
        guard (1...12).contains(month), day >= 1, day <= RFC3339.daysIn(month, year), hour < 24, minute < 60, second <= 60 else { return nil }
        let seconds = RFC3339.daysSinceEpoch(year, month, day) * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset
        guard seconds >= 0, seconds < RFC3339.maximumSeconds else { return nil }
        return UInt64(seconds) * 1_000_000_000 + nanos
    }
}
