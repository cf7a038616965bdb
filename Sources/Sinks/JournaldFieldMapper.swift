import Glibc
import Records

/// One journal entry in journald's native format: `NAME=value\n` for each field, or, when the value
/// holds a newline, `NAME\n`, the value's length as a 64-bit little-endian number, the value and `\n`.
struct JournaldEntry {
    var bytes: [UInt8] = []

    mutating func add(_ name: [UInt8], _ value: (inout [UInt8]) -> Void) {
        let separator = bytes.count + name.count
        bytes.append(contentsOf: name)
        bytes.append(UInt8(ascii: "="))
        value(&bytes)
        let valueStart = separator + 1
        let count = bytes.count - valueStart
        let hasNewline = bytes.withUnsafeBytes { memchr($0.baseAddress! + valueStart, 0x0A, count) != nil }
        if hasNewline {
            bytes[separator] = 0x0A
            bytes.insert(contentsOf: withUnsafeBytes(of: UInt64(count).littleEndian, Array.init), at: valueStart)
        }
        bytes.append(0x0A)
    }
}

/// Maps one record (a JSON object) to journald fields, as the design's contract says.
struct JournaldFieldMapper {
    let identifier: [UInt8]
    let messageKey: [UInt8]
    let levelKey: [UInt8]
    private static let fallbackMessageKey = Array("message".utf8)
    private static let reserved: [[UInt8]] = ["MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER"].map { Array($0.utf8) }

    init(identifier: String, messageKey: String, levelKey: String) {
        self.identifier = Array(identifier.utf8)
        self.messageKey = Array(messageKey.utf8)
        self.levelKey = Array(levelKey.utf8)
    }

    func entry(of record: UnsafeRawBufferPointer) -> JournaldEntry {
        // Each member with its key decoded: journald's field names are made from the text.
        var members: [(key: [UInt8], member: JSONScanner.Member)] = []
        _ = JSONScanner.scanObject(record) { member in
            var key: [UInt8] = []
            if member.keyIsEscaped {
                JSONUnescape.append(UnsafeRawBufferPointer(rebasing: record[member.key]), to: &key)
            } else {
                key.append(contentsOf: UnsafeRawBufferPointer(rebasing: record[member.key]))
            }
            members.append((key, member))
        }
        var entry = JournaldEntry()
        let messageIndex =
            members.firstIndex { $0.key == messageKey }
            ?? members.firstIndex { $0.key == Self.fallbackMessageKey }
        if let messageIndex {
            entry.add(Array("MESSAGE".utf8)) { Self.appendText(of: members[messageIndex].member, in: record, to: &$0) }
        } else {
            entry.add(Array("MESSAGE".utf8)) { $0.append(contentsOf: record) }
        }
        let levelIndex = members.firstIndex { $0.key == levelKey }
        let priority = levelIndex.map { Self.priority(of: members[$0].member, in: record) } ?? 6
        entry.add(Array("PRIORITY".utf8)) { $0.append(UInt8(ascii: "0") + UInt8(priority)) }
        entry.add(Array("SYSLOG_IDENTIFIER".utf8)) { $0.append(contentsOf: identifier) }
        for (index, (key, member)) in members.enumerated() where index != messageIndex && index != levelIndex {
            var name = Self.fieldName(key)
            if name.isEmpty { continue }
            // An application key that maps onto a field we set keeps its value under another name.
            if Self.reserved.contains(name) { name = Array("APP_".utf8) + name }
            entry.add(name) { Self.appendText(of: member, in: record, to: &$0) }
        }
        return entry
    }

    /// Strings as their text, everything else as its JSON text.
    private static func appendText(of member: JSONScanner.Member, in record: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let value = UnsafeRawBufferPointer(rebasing: record[member.value])
        if member.valueIsString {
            JSONUnescape.append(value.betweenQuotes, to: &out)
        } else {
            out.append(contentsOf: value)
        }
    }

    /// Upper case, only `A-Z 0-9 _`, no leading `_` or digit, at most 64 bytes (journald's field rules).
    static func fieldName(_ key: [UInt8]) -> [UInt8] {
        var name: [UInt8] = []
        for byte in key {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): name.append(byte - 32)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"): name.append(byte)
            case 0x80...0xBF: continue  // a UTF-8 continuation byte: its character became `_` already
            default: name.append(UInt8(ascii: "_"))
            }
        }
        let leading = name.prefix { $0 == UInt8(ascii: "_") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        return Array(name.dropFirst(leading.count).prefix(64))
    }

    /// PRIORITY from the level's text: names as syslog and common loggers spell them, or 0-7 as such.
    private static func priority(of member: JSONScanner.Member, in record: UnsafeRawBufferPointer) -> Int {
        var text: [UInt8] = []
        appendText(of: member, in: record, to: &text)
        let word = String(decoding: text, as: UTF8.self).lowercased()
        if let number = Int(word), (0...7).contains(number) { return number }
        switch word {
        case "emerg", "emergency", "panic": return 0
        case "alert": return 1
        case "critical", "crit", "fatal": return 2
        case "error", "err": return 3
        case "warn", "warning": return 4
        case "notice": return 5
        case "info", "information", "informational": return 6
        case "debug", "trace": return 7
        default: return 6
        }
    }
}
