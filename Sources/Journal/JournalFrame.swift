/// What the reader process tells the daemon over its stdout pipe, one frame at a time: a kind byte,
/// the payload's length (4 bytes, little-endian) and the payload. A frame is written whole or the
/// reader died; the daemon takes only whole frames, so a reader killed mid-frame loses nothing that
/// its successor does not read again.
enum JournalFrame: Equatable {
    /// An entry as a record: its cursor, its realtime (µs) and the record's JSON object.
    case entry(cursor: String, realtimeUsec: UInt64, record: [UInt8])
    /// Where reading starts when there is no entry to ship yet (`read_from: end`): the last entry's cursor.
    case position(cursor: String, realtimeUsec: UInt64)
    /// The journal is open and the reader at its starting point.
    case opened(source: String)
    /// The stored cursor's entry is gone (vacuumed): reading continued at the oldest entry kept.
    case cursorLost(String)
    /// An entry could not be read (EBADMSG: a corrupt journal file) and was skipped.
    case corrupt(String)
    /// Something to log (the journal could not be opened, a wait failed), with whether it is fatal.
    case problem(String, fatal: Bool)

    static let headerBytes = 5
    /// Beyond this a length can only be a broken stream (a field is cut at `max_line_bytes`, 1 GiB at most).
    static let maximumPayload = (1 << 30) + (64 << 20)

    enum Kind: UInt8 {
        case entry = 0x45  // E
        case position = 0x50  // P
        case opened = 0x4F  // O
        case cursorLost = 0x4C  // L
        case corrupt = 0x42  // B
        case warning = 0x57  // W
        case fatal = 0x46  // F
    }

    func encode(into out: inout [UInt8]) {
        switch self {
        case .entry(let cursor, let realtime, let record):
            var text = cursor
            text.withUTF8 { Self.encodeEntry(cursor: UnsafeRawBufferPointer($0), realtimeUsec: realtime, record: record, into: &out) }
        case .position(let cursor, let realtime):
            Self.header(.position, 2 + cursor.utf8.count + 8, into: &out)
            Self.cursorAndTime(cursor, realtime, into: &out)
        case .opened(let text): Self.text(.opened, text, into: &out)
        case .cursorLost(let text): Self.text(.cursorLost, text, into: &out)
        case .corrupt(let text): Self.text(.corrupt, text, into: &out)
        case .problem(let text, let fatal): Self.text(fatal ? .fatal : .warning, text, into: &out)
        }
    }

    /// An entry frame from the record's bytes, without building the enum (the reader's hot path).
    static func encodeEntry(cursor: UnsafeRawBufferPointer, realtimeUsec: UInt64, record: [UInt8], into out: inout [UInt8]) {
        header(.entry, 2 + min(cursor.count, 0xFFFF) + 8 + record.count, into: &out)
        cursorAndTime(cursor, realtimeUsec, into: &out)
        out.append(contentsOf: record)
    }

    private static func header(_ kind: Kind, _ length: Int, into out: inout [UInt8]) {
        out.append(kind.rawValue)
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: length >> shift)) }
    }

    private static func text(_ kind: Kind, _ text: String, into out: inout [UInt8]) {
        header(kind, text.utf8.count, into: &out)
        out.append(contentsOf: text.utf8)
    }

    private static func cursorAndTime(_ cursor: String, _ realtime: UInt64, into out: inout [UInt8]) {
        var text = cursor
        text.withUTF8 { cursorAndTime(UnsafeRawBufferPointer($0), realtime, into: &out) }
    }

    private static func cursorAndTime(_ cursor: UnsafeRawBufferPointer, _ realtime: UInt64, into out: inout [UInt8]) {
        let count = min(cursor.count, 0xFFFF)
        out.append(UInt8(truncatingIfNeeded: count))
        out.append(UInt8(truncatingIfNeeded: count >> 8))
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: cursor[..<count]))
        var time = realtime.littleEndian
        withUnsafeBytes(of: &time) { out.append(contentsOf: $0) }
    }

    /// The frame at the start of `bytes`, and how many bytes it took; nil while it is incomplete.
    /// Throws when the bytes cannot be a frame (the daemon then restarts the reader).
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(JournalFrameError) -> (Decoded, Int)? {
        guard bytes.count >= headerBytes else { return nil }
        guard let kind = Kind(rawValue: bytes[0]) else { throw JournalFrameError(reason: "unknown frame kind \(bytes[0])") }
        var length = 0
        for index in 0..<4 { length |= Int(bytes[1 + index]) << (8 * index) }
        guard length <= maximumPayload else { throw JournalFrameError(reason: "a frame of \(length) bytes") }
        guard bytes.count >= headerBytes + length else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[headerBytes..<(headerBytes + length)])
        let total = headerBytes + length
        switch kind {
        case .entry, .position:
            guard payload.count >= 10 else { throw JournalFrameError(reason: "an entry frame of \(payload.count) bytes") }
            let cursorLength = Int(payload[0]) | Int(payload[1]) << 8
            guard payload.count >= 2 + cursorLength + 8 else { throw JournalFrameError(reason: "a cursor longer than its frame") }
            let cursor = UnsafeRawBufferPointer(rebasing: payload[2..<(2 + cursorLength)])
            var realtime: UInt64 = 0
            for index in 0..<8 { realtime |= UInt64(payload[2 + cursorLength + index]) << UInt64(8 * index) }
            let record = UnsafeRawBufferPointer(rebasing: payload[(2 + cursorLength + 8)...])
            if kind == .position { return (.position(cursor: String(decoding: cursor, as: UTF8.self), realtimeUsec: realtime), total) }
            return (.entry(cursor: cursor, realtimeUsec: realtime, record: record), total)
        case .opened, .cursorLost, .corrupt, .warning, .fatal:
            let text = String(decoding: payload, as: UTF8.self)
            switch kind {
            case .opened: return (.opened(text), total)
            case .cursorLost: return (.cursorLost(text), total)
            case .corrupt: return (.corrupt(text), total)
            case .fatal: return (.problem(text, fatal: true), total)
            default: return (.problem(text, fatal: false), total)
            }
        }
    }

    /// A decoded frame; an entry's cursor and record point into the bytes it was decoded from (a
    /// cursor becomes a `String` only for the last entry of a batch: the one the checkpoint takes).
    enum Decoded {
        case entry(cursor: UnsafeRawBufferPointer, realtimeUsec: UInt64, record: UnsafeRawBufferPointer)
        case position(cursor: String, realtimeUsec: UInt64)
        case opened(String)
        case cursorLost(String)
        case corrupt(String)
        case problem(String, fatal: Bool)
    }
}

struct JournalFrameError: Error, CustomStringConvertible {
    let reason: String
    var description: String { "the journal reader sent \(reason)" }
}
