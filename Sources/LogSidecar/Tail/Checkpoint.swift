/// The acknowledged position in every file still being read (the current one and any rotated one not
/// yet drained), oldest first. Written atomically, so a crash leaves either the old or the new one.
public struct Checkpoint: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public var path: String
        public var identity: FileIdentity
        /// Every byte before this offset has been accepted by every sink.
        public var offset: Int64
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    public func encoded() -> [UInt8] {
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
        return Array(JSONValue.object([("version", .number("1")), ("files", .array(files))]).serialized.utf8) + [0x0A]
    }

    public static func decode(_ bytes: [UInt8]) throws(CheckpointError) -> Checkpoint {
        let document: JSONValue
        do { document = try JSONParser.parse(bytes) } catch { throw CheckpointError("not valid JSON: \(error)") }
        guard case .array(let files)? = document["files"] else { throw CheckpointError("no \"files\" array") }
        var entries: [Entry] = []
        for file in files {
            guard case .string(let path)? = file["path"],
                case .number(let device)? = file["device"], let deviceNumber = UInt64(device),
                case .number(let inode)? = file["inode"], let inodeNumber = UInt64(inode),
                case .number(let prefix)? = file["prefix_length"], let prefixLength = Int(prefix),
                case .string(let fingerprint)? = file["fingerprint"], let hash = UInt64(fingerprint, radix: 16),
                case .number(let offset)? = file["offset"], let offsetNumber = Int64(offset), offsetNumber >= 0
            else { throw CheckpointError("an entry of \"files\" is incomplete: \(file.serialized)") }
            let identity = FileIdentity(device: deviceNumber, inode: inodeNumber, prefixLength: prefixLength, fingerprint: hash)
            entries.append(Entry(path: path, identity: identity, offset: offsetNumber))
        }
        return Checkpoint(entries: entries)
    }

    /// `nil` when there is no checkpoint yet (a first start).
    public static func load(from path: String) throws(CheckpointError) -> Checkpoint? {
        guard (try? FileStatus.at(path)) != nil else { return nil }
        do {
            return try decode(try FileIO.readFile(path))
        } catch let error as CheckpointError {
            throw CheckpointError("\(path): \(error.message)")
        } catch {
            throw CheckpointError("\(path): \(error)")
        }
    }

    public func save(to path: String) throws(SystemError) {
        try FileIO.writeFileAtomically(path, encoded())
    }
}

public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { "unreadable checkpoint: \(message)" }
}
