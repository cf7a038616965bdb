import Configuration
import Foundation
import Multiline
import Records

// The text-log targets: the multiline joiner, the logfmt parser and the time parser.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("property failed: " + message + "\n").utf8))
    abort()
}

/// Multiline: the first bytes choose the rule and the limits; then lines, where a line that is a
/// single 0x01 byte is a quiet moment (the timeout flushes). Every input line is in exactly one record,
/// in order, or stands behind a cut record (skipped); a whole record is its lines joined by `\n`.
func fuzzMultiline(_ input: UnsafeRawBufferPointer) {
    guard input.count >= 3 else { return }
    let rules: [MultilineConfig.Rule] = [.preset(.java), .preset(.python), .preset(.go), .start(#"^\S"#), .continues(#"^\s"#)]
    var config = MultilineConfig(rule: rules[Int(input[0]) % rules.count])
    config.maxLines = 2 + Int(input[1]) % 12
    config.maxBytes = input[2] < 128 ? 16 + Int(input[2]) * 4 : 1 << 20
    guard let joiner = try? MultilineJoiner(config, maxLineBytes: 1 << 20) else { fail("the rule compiles") }
    var lines: [[UInt8]] = []
    var records: [(bytes: [UInt8], cutFrom: Int?)] = []
    let emit: (Line) -> Void = { line in
        switch line {
        case .complete(let bytes): records.append((Array(bytes), nil))
        case .truncated(let head, let original): records.append((Array(head), original + 1))
        }
    }
    for piece in UnsafeRawBufferPointer(rebasing: input.dropFirst(3)).split(separator: 0x0A, omittingEmptySubsequences: false) {
        if piece.count == 1 && piece.first == 0x01 {
            joiner.flush(emit: emit)
            continue
        }
        lines.append(Array(piece))
        piece.withUnsafeBytes { joiner.take(.complete($0), emit: emit) }
    }
    joiner.flush(emit: emit)
    if joiner.hasPending || joiner.pendingBytes != 0 { fail("nothing pending after a flush") }
    var next = 0
    for record in records {
        if let inputBytes = record.cutFrom {
            // A cut record stands for whole lines: its head is a prefix of them joined.
            var covered = 0
            let first = next
            while covered < inputBytes && next < lines.count {
                covered += lines[next].count + 1
                next += 1
            }
            if covered != inputBytes { fail("a cut record's \(inputBytes) bytes end inside a line") }
            let joined = Array(lines[first..<next].joined(separator: [0x0A]))
            if !joined.starts(with: record.bytes) { fail("a cut record's head is not its lines' start") }
        } else {
            let count = record.bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count
            if next + count > lines.count { fail("a record holds lines that were never written") }
            if Array(lines[next..<(next + count)].joined(separator: [0x0A])) != record.bytes { fail("a record is not the next lines, in order") }
            next += count
        }
    }
    if next != lines.count { fail("\(lines.count - next) of \(lines.count) lines are in no record") }
}

/// logfmt: never crash; what parses is a JSON object, and written out again as logfmt it parses to the
/// same keys and values.
func fuzzLogfmt(_ input: UnsafeRawBufferPointer) {
    var pairs: [Logfmt.Pair] = []
    guard Logfmt.parse(input, into: &pairs) else { return }
    func decoded(_ text: UnsafeRawBufferPointer, _ pairs: [Logfmt.Pair]) -> [[UInt8]?] {
        pairs.flatMap { pair -> [[UInt8]?] in
            var value: [UInt8]?
            switch pair.value {
            case .flag: value = nil
            case .bare(let range): value = Array(text[range])
            case .quoted(let range):
                var out: [UInt8] = []
                Logfmt.appendUnquoted(UnsafeRawBufferPointer(rebasing: text[range]), to: &out)
                value = out
            }
            return [Array(text[pair.key]), value]
        }
    }
    let first = decoded(input, pairs)
    var again: [UInt8] = []
    for pair in stride(from: 0, to: first.count, by: 2) {
        if !again.isEmpty { again.append(0x20) }
        again += first[pair] ?? []
        guard let value = first[pair + 1] else { continue }
        again += Array(#"=""#.utf8)
        for byte in value {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): again += [UInt8(ascii: "\\"), byte]
            case 0x0A: again += Array(#"\n"#.utf8)
            default: again.append(byte)
            }
        }
        again.append(UInt8(ascii: "\""))
    }
    let second = again.withUnsafeBytes { text -> [[UInt8]?]? in
        var pairs: [Logfmt.Pair] = []
        return Logfmt.parse(text, into: &pairs) ? decoded(text, pairs) : nil
    }
    if second.map({ $0 == first }) != true { fail("logfmt written again parses differently: \(String(decoding: again, as: UTF8.self))") }
    guard let parser = try? LineParser(.logfmt) else { fail("the logfmt parser") }
    var object: [UInt8] = []
    if !parser.appendObject(input, to: &object) { fail("parsed once, not twice") }
    let scanned = object.withUnsafeBytes { JSONScanner.scanObject($0) { _ in } }
    if scanned?.range.count != object.count { fail("not one JSON object: \(String(decoding: object, as: UTF8.self))") }
}

private let timeFormats: [TimeFormat] = [
    "rfc3339", "unix", "unix_ms", "unix_us", "unix_ns", "%Y-%m-%d %H:%M:%S,%L", "%d/%b/%Y:%H:%M:%S %z", "%a %b %e %T %Y", "%FT%T.%f%z", "%s.%L",
    "%y%m%d %H%M%S",
].compactMap { try? TimeFormat($0) }

/// Time: never crash; a value that parses, written again in its format (UTC), parses to the same time;
/// RFC 3339's readings agree on every input.
func fuzzTime(_ input: UnsafeRawBufferPointer) {
    guard let selector = input.first else { return }
    let format = timeFormats[Int(selector) % timeFormats.count]
    let value = UnsafeRawBufferPointer(rebasing: input.dropFirst())
    // RFC 3339's date and clock are read a word at a time: the byte by byte reading must agree, and so
    // must a second reading whose seconds come from the first's memo.
    let bytewise = RFC3339.nanosecondsBytewise(value)
    var memo = RFC3339.SecondsMemo()
    if RFC3339.nanoseconds(value, memo: &memo) != bytewise || RFC3339.nanoseconds(value, memo: &memo) != bytewise {
        fail("RFC 3339's readings differ on \(Array(value))")
    }
    guard let time = format.nanoseconds(value, isString: true) else { return }
    guard let written = render(time, format) else { return }
    let again = written.withUnsafeBytes { format.nanoseconds($0, isString: true) }
    if again != time { fail("\(format.text): \(time) written as \(String(decoding: written, as: UTF8.self)) parses to \(String(describing: again))") }
}

/// `time` in `format`, in UTC; nil where the format cannot hold it (a two-digit year out of its century).
private func render(_ time: UInt64, _ format: TimeFormat) -> [UInt8]? {
    let seconds = Int(time / 1_000_000_000)
    let nanos = Int(time % 1_000_000_000)
    func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    let days = seconds / 86_400
    let (year, month, day) = civil(days)
    let clock = seconds % 86_400
    switch format {
    case .rfc3339:
        return Array(
            "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))T\(padded(clock / 3600, 2)):\(padded(clock / 60 % 60, 2)):\(padded(clock % 60, 2)).\(padded(nanos, 9))Z"
                .utf8)
    case .unix: return Array("\(seconds).\(padded(nanos, 9))".utf8)
    case .unixMs: return time % 1_000_000 == 0 ? Array(String(time / 1_000_000).utf8) : nil
    case .unixUs: return time % 1_000 == 0 ? Array(String(time / 1_000).utf8) : nil
    case .unixNs: return Array(String(time).utf8)
    case .pattern(_, let pieces):
        var out = ""
        for piece in pieces {
            switch piece {
            case .literal(let byte): out += String(decoding: [byte], as: UTF8.self)
            case .blanks: out += " "
            case .year: out += padded(year, 4)
            case .year2:
                guard (1969...2068).contains(year) else { return nil }
                out += padded(year % 100, 2)
            case .month: out += padded(month, 2)
            case .monthName: out += String(decoding: TimeFormat.months[month - 1], as: UTF8.self)
            case .day: out += padded(day, 2)
            case .hour: out += padded(clock / 3600, 2)
            case .minute: out += padded(clock / 60 % 60, 2)
            case .second: out += padded(clock % 60, 2)
            case .milliseconds:
                guard nanos % 1_000_000 == 0 else { return nil }
                out += padded(nanos / 1_000_000, 3)
            case .fraction: out += padded(nanos, 9)
            case .offset: out += "+0000"
            case .weekdayName: out += String(decoding: TimeFormat.weekdays[(days % 7 + 11) % 7], as: UTF8.self)
            case .epochSeconds: out += String(seconds)
            }
        }
        return Array(out.utf8)
    }
}

/// Howard Hinnant's civil_from_days, for days since 1970 that are not negative.
private func civil(_ days: Int) -> (Int, Int, Int) {
    let z = days + 719_468
    let era = z / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
}
