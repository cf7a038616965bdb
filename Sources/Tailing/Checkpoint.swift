import Records
import SystemSupport

/// The acknowledged position in every file still being read (the current one and any rotated one not
/// yet drained), oldest first. Written atomically, so a crash leaves either the old or the new one.
package struct Checkpoint: Equatable, Sendable {
    package struct Entry: Equatable, Sendable {
        package var path: String
        package var identity: FileIdentity
        /// Every byte before this offset has been accepted by every sink.
        package var offset: Int64
    }

    /// The journald input's position: the last entry every sink acknowledged.
    package struct JournalPosition: Equatable, Sendable {
        package var cursor: String
        /// The entry's realtime (µs since the epoch): what `/health` measures the lag from.
        package var realtimeUsec: UInt64

        package init(cursor: String, realtimeUsec: UInt64) { (self.cursor, self.realtimeUsec) = (cursor, realtimeUsec) }
    }

    package var entries: [Entry]
    package var journal: JournalPosition?

    package init(entries: [Entry], journal: JournalPosition? = nil) { (self.entries, self.journal) = (entries, journal) }

    /// A journal cursor: printable ASCII (sd-journal writes `s=…;i=…;…`), at most this long.
    package static let maximumCursorBytes = 512

    package func encoded() -> [UInt8] {
        let files = entries.map { entry -> JSONValue in
            .object([
                ("path", .string(entry.path)),
                ("device", .number(String(entry.identity.device))),
                ("inode", .number(String(entry.identity.inode))),
                ("prefix_length", .number(String(entry.identity.prefixLength))),
                ("fingerprint", .string(String(entry.identity.fingerprint, radix: 16))),
                ("offset", .number(String(entry.offset))),
            ])
        }
        var members: [(key: String, value: JSONValue)] = [("version", .number("1")), ("files", .array(files))]
        if let journal {
            members.append(("journal", .object([("cursor", .string(journal.cursor)), ("realtime_usec", .number(String(journal.realtimeUsec)))])))
        }
        return Array(JSONValue.object(members).serialized.utf8) + [0x0A]
    }

    /// Reads a checkpoint, checking every field: a crash can leave it NUL-filled or cut short, and a
    /// hostile or stale one must not drive a read or a seek. Throws `.corrupt` with the reason.
    package static func decode(_ bytes: [UInt8]) throws(CheckpointError) -> Checkpoint {
        let document: JSONValue
        do { document = try JSONParser.parse(bytes) } catch { throw .corrupt("not valid JSON: \(error)") }
        guard case .object = document else { throw .corrupt("not a JSON object") }
        guard case .number(let version)? = document["version"] else { throw .corrupt("no \"version\"") }
        guard version == "1" else { throw .corrupt("unknown version \(version); this build reads version 1") }
        guard case .array(let files)? = document["files"] else { throw .corrupt("no \"files\" array") }
        var entries: [Entry] = []
        for (index, file) in files.enumerated() {
            entries.append(try entry(file, index: index))
        }
        return Checkpoint(entries: entries, journal: try journalPosition(document["journal"]))
    }

    private static func journalPosition(_ value: JSONValue?) throws(CheckpointError) -> JournalPosition? {
        guard let value else { return nil }
        guard case .object = value else { throw .corrupt("journal is not an object") }
        guard case .string(let cursor)? = value["cursor"], !cursor.isEmpty, cursor.utf8.count <= maximumCursorBytes,
            cursor.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw .corrupt("journal.cursor is \(value["cursor"]?.serialized.prefix(64) ?? "missing"), expected a journal cursor") }
        guard case .number(let text)? = value["realtime_usec"], let realtime = UInt64(text) else {
            throw .corrupt("journal.realtime_usec is \(value["realtime_usec"]?.serialized.prefix(64) ?? "missing"), expected an unsigned integer")
        }
        return JournalPosition(cursor: cursor, realtimeUsec: realtime)
    }

    /// The largest offset we accept: far beyond any file, far from overflowing the arithmetic on it.
    package static let maximumOffset: Int64 = 1 << 60

    private static func entry(_ file: JSONValue, index: Int) throws(CheckpointError) -> Entry {
        func field(_ name: String) throws(CheckpointError) -> JSONValue {
            guard let value = file[name] else { throw .corrupt("files[\(index)].\(name) is missing") }
            return value
        }
        func bad(_ name: String, _ value: JSONValue, _ expected: String) -> CheckpointError {
            .corrupt("files[\(index)].\(name) is \(value.serialized.prefix(64)), expected \(expected)")
        }
        guard case .object = file else { throw .corrupt("files[\(index)] is not an object") }
        let path = try field("path")
        guard case .string(let pathText) = path, !pathText.isEmpty, !pathText.utf8.contains(0) else {
            throw bad("path", path, "a path")
        }
        let device = try field("device")
        guard case .number(let deviceText) = device, let deviceNumber = UInt64(deviceText) else {
            throw bad("device", device, "an unsigned integer")
        }
        let inode = try field("inode")
        guard case .number(let inodeText) = inode, let inodeNumber = UInt64(inodeText) else {
            throw bad("inode", inode, "an unsigned integer")
        }
        let prefix = try field("prefix_length")
        guard case .number(let prefixText) = prefix, let prefixLength = Int(prefixText),
            (0...FileIdentity.maximumPrefix).contains(prefixLength)
        else { throw bad("prefix_length", prefix, "0...\(FileIdentity.maximumPrefix)") }
        let fingerprint = try field("fingerprint")
        guard case .string(let fingerprintText) = fingerprint, !fingerprintText.isEmpty, fingerprintText.count <= 16,
            let hash = UInt64(fingerprintText, radix: 16)
        else { throw bad("fingerprint", fingerprint, "up to 16 hex digits") }
        let offset = try field("offset")
        guard case .number(let offsetText) = offset, let offsetNumber = Int64(offsetText), (0...maximumOffset).contains(offsetNumber) else {
            throw bad("offset", offset, "an offset in 0...\(maximumOffset)")
        }
        let identity = FileIdentity(device: deviceNumber, inode: inodeNumber, prefixLength: prefixLength, fingerprint: hash)
        return Entry(path: pathText, identity: identity, offset: offsetNumber)
    }

    /// `nil` when there is no checkpoint yet (a first start). A file that cannot be read is
    /// `.unreadable`; one whose content is not a valid checkpoint is `.corrupt`.
    package static func load(from path: String) throws(CheckpointError) -> Checkpoint? {
        let bytes: [UInt8]
        do {
            guard try FileStatus.at(path) != nil else { return nil }
            bytes = try FileIO.readFile(path)
        } catch {
            throw .unreadable("\(path): \(error)")
        }
        do {
            return try decode(bytes)
        } catch {
            throw error.naming(path)
        }
    }

    package func save(to path: String) throws(SystemError) {
        try FileIO.writeFileAtomically(path, encoded())
    }
}

package enum CheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    /// It cannot be read at all (permissions, EIO): start-up stops, the operator must look.
    case unreadable(String)
    /// It was read but is not a valid checkpoint: moved aside, and the start proceeds as a first start.
    case corrupt(String)

    func naming(_ path: String) -> CheckpointError {
        switch self {
        case .unreadable(let message): return .unreadable("\(path): \(message)")
        case .corrupt(let message): return .corrupt("\(path): \(message)")
        }
    }

    package var description: String {
        switch self {
        case .unreadable(let message): return "unreadable checkpoint: \(message)"
        case .corrupt(let message): return "corrupt checkpoint: \(message)"
        }
    }
}
