import Glibc
import Multiline
import Records
import SystemSupport

/// One file the file server knows, by identity: followed at a path a pattern matches, a rotated one
/// being drained, or a copytruncate copy. It is open while it is read; a quiet one may be closed to
/// make room under `input.max_open_files` and opened again by path when it grows.
final class TailedFile {
    private(set) var descriptor: Int32? {
        didSet { openDescriptor.value = descriptor }
    }
    /// `descriptor` for the origin counter's fingerprint reads, which may outlive the file (nil then).
    /// Not a weak reference to the file: a weak reference gives an object a side table, and every
    /// retain and release of it then takes the runtime's slow path; the file server's loops over all
    /// files made those a third of a busy daemon's CPU with a thousand files (Benchmarks/README.md).
    private let openDescriptor = DescriptorCell()
    /// The path the file was found under, before any rotation: the record's `file` field and the
    /// checkpoint entry's `path`.
    var origin: String
    /// Where it is now, among the paths the patterns match; nil once it left them (renamed away or
    /// deleted): it is then drained and forgotten.
    var path: String? {
        didSet { tally?.pathsMoved = true }
    }
    /// Where it was last seen, for opening it again and for messages.
    var lastPath: String
    private(set) var identity: FileIdentity {
        didSet { quickPrefix = nil }
    }
    /// `FileIdentity.quickDigest` of the bytes `identity` fingerprints, once a check read them and
    /// found them matching: later checks compare it, not the fingerprint's slower hash.
    private var quickPrefix: UInt64?
    /// The first bytes of a file still shorter than a full fingerprint, as read: the fingerprint
    /// grows from the bytes read after them, never from a second look at the file, which by then may
    /// hold what a later copytruncate let be written (its copy would then not be recognised).
    private var head: [UInt8]?
    /// Bytes read from the descriptor so far.
    var readOffset: Int64 {
        didSet { tally?.lagMoved(from: Self.lag(size: knownSize, read: oldValue, checkpointed: checkpointedOffset), to: lagBytes) }
    }
    /// Every byte before this has been handed to every sink (which may still be sending it).
    var handedOffset: Int64
    /// What the last checkpoint written holds for this file: every byte before it was acknowledged by
    /// every sink's receiver. The lag and the offsets that `/health` and `/metrics` show count from here.
    var checkpointedOffset: Int64 {
        didSet { tally?.lagMoved(from: Self.lag(size: knownSize, read: readOffset, checkpointed: oldValue), to: lagBytes) }
    }
    let splitter: LineSplitter
    /// Monotonic time the file was last seen to grow: a file that left the patterns is closed once quiet.
    var lastGrowthMs: Int64
    /// The size last seen, by `fstat`, `stat` or reading: what the lag is computed from.
    var knownSize: Int64 {
        didSet { tally?.lagMoved(from: Self.lag(size: oldValue, read: readOffset, checkpointed: checkpointedOffset), to: lagBytes) }
    }
    /// Size and modification time at the last truncation check: the first bytes are compared again
    /// only when one of them moved.
    var checkedSize: Int64
    var checkedModifiedNs: Int64 = 0
    /// The modification time when it was last closed for room (`closeForRoom`); nil while open, or
    /// when it could not be read.
    var closedModifiedNs: Int64?
    /// Monotonic ms of the last check: a read that finds nothing is checked once per pass (that is
    /// how a truncation between two events shows).
    var checkedAtMs: Int64 = 0
    /// A copytruncate copy never grows again: once read to its end it is done.
    var isCopy: Bool
    /// The last read returned nothing: it is read again when an event, a poll or a size says so.
    var atEndOfFile = false {
        didSet { if !atEndOfFile { tally?.listUnread(self) } }
    }
    /// In the tally's list of files not read to their end.
    var listedUnread = false
    /// When the file server tracked it, counted in files: sorts its files in the order they were found.
    var trackedAs = 0
    /// The file that held this one's path before a rotation: its lines come first, so this one waits
    /// until it has been read to its end.
    weak var predecessor: TailedFile?
    /// Waiting for a descriptor under `input.max_open_files`.
    var waiting = false {
        didSet { if waiting != oldValue { tally?.waitingChanged(to: waiting) } }
    }
    /// Found after the first discovery and not read yet: it may still turn out to be a copy of a
    /// followed file (copytruncate's copy appears before the original is truncated).
    var neverRead = false
    /// A copy of this followed file, not read: its bytes are shipped from the original, and from it
    /// only if the original is truncated.
    weak var shadowOf: TailedFile?
    /// Found after start: a short new file is compared with the followed files' first bytes too.
    var comparesShortCopies = false
    /// How its lines are read: the format of the pattern it was found under.
    var format = InputFormat.json
    /// Joins its lines into records when its entry has `multiline`; a file's record is completed from
    /// that file only.
    var joiner: MultilineJoiner?
    /// Its entry's `parse`, shared by the files of that entry.
    var parser: LineParser?
    /// Whether leaving its first path was counted as a rotation.
    var rotationCounted = false
    /// Names its records (`RecordOrigin`); made again when the file is rewritten in place.
    private var originCounter: OriginCounter?
    /// The file server's tally of all its files, told of each change of this file's lag, path, wait for
    /// a descriptor and end while the server tracks it; nil before and after.
    var tally: FileTally?

    init(
        descriptor: Int32?, origin: String, location: String, listed: Bool, identity: FileIdentity, offset: Int64, size: Int64,
        buffer: ReadBuffer, maxLineBytes: Int, nowMs: Int64, isCopy: Bool = false
    ) {
        self.descriptor = descriptor
        openDescriptor.value = descriptor
        self.origin = origin
        path = listed ? location : nil
        lastPath = location
        self.identity = identity
        readOffset = offset
        handedOffset = offset
        checkpointedOffset = offset
        splitter = LineSplitter(maxLineBytes: maxLineBytes, sharing: buffer)
        lastGrowthMs = nowMs
        knownSize = size
        checkedSize = size
        self.isCopy = isCopy
    }

    deinit {
        if let descriptor { FileIO.close(descriptor) }
        openDescriptor.value = nil
    }

    var isOpen: Bool { descriptor != nil }

    /// Opens `path` at `offset` (its end when nil), or returns nil when nothing is there. `listed`:
    /// the path is one the patterns match.
    static func open(
        path: String, origin: String? = nil, listed: Bool, offset: Int64?, buffer: ReadBuffer, maxLineBytes: Int, nowMs: Int64,
        isCopy: Bool = false
    ) throws(SystemError) -> TailedFile? {
        guard let fd = try openDescriptor(path) else { return nil }
        do {
            let status = try FileStatus.of(descriptor: fd)
            let head = try FileIdentity.head(fd, size: status.size)
            let start = min(offset ?? status.size, status.size)
            try FileIO.seek(fd, to: start)
            let file = TailedFile(
                descriptor: fd, origin: origin ?? path, location: path, listed: listed,
                identity: FileIdentity(device: status.device, inode: status.inode, head: []), offset: start, size: status.size,
                buffer: buffer, maxLineBytes: maxLineBytes, nowMs: nowMs, isCopy: isCopy)
            file.fingerprint(head)
            return file
        } catch {
            FileIO.close(fd)
            throw error
        }
    }

    private static func openDescriptor(_ path: String) throws(SystemError) -> Int32? {
        do {
            return try FileIO.open(path, flags: O_RDONLY | O_CLOEXEC)
        } catch  where error.errno == ENOENT {
            return nil
        }
    }

    /// Opens the file again at its path after it was closed for room; false when the path now holds
    /// another file (or none): this one went away while it waited.
    func reopen() throws(SystemError) -> Bool {
        guard descriptor == nil else { return true }
        guard let fd = try TailedFile.openDescriptor(lastPath) else { return false }
        do {
            let status = try FileStatus.of(descriptor: fd)
            if identity.prefixLength == 0 && readOffset == 0 && identity.sameInode(status) {
                // Known by its inode alone until now (it waited before it was ever opened).
                fingerprint(try FileIdentity.head(fd, size: status.size))
            }
            guard identity.sameInode(status), status.size >= readOffset, try identity.prefixMatches(fd) else {
                FileIO.close(fd)
                return false
            }
            try FileIO.seek(fd, to: readOffset)
            knownSize = status.size
            descriptor = fd
            closedModifiedNs = nil
            return true
        } catch {
            FileIO.close(fd)
            throw error
        }
    }

    /// Gives the descriptor back; only a file at its end with no partial line is closed this way.
    func close() {
        if let descriptor { FileIO.close(descriptor) }
        descriptor = nil
    }

    /// Closes a quiet file to make room for another, noting its modification time: a file rewritten
    /// to the very size it had (copytruncate, then as many bytes again) is told by that alone.
    func closeForRoom() {
        if let descriptor { closedModifiedNs = (try? FileStatus.of(descriptor: descriptor))?.modifiedNs }
        close()
    }

    /// Whether the file behind `fd` still starts with the bytes `identity` fingerprints, as
    /// `identity.prefixMatches` answers.
    func prefixMatches(_ fd: Int32) throws(SystemError) -> Bool {
        let length = identity.prefixLength
        if length == 0 { return true }
        if let quickPrefix { return try FileIdentity.quickPrefixDigest(fd, length: length) == quickPrefix }
        guard let digests = try FileIdentity.prefixDigests(fd, length: length), digests.fingerprint == identity.fingerprint else { return false }
        quickPrefix = digests.quick
        return true
    }

    /// Fingerprints the file (same device and inode) by its first bytes, `bytes`; while they are fewer
    /// than a full fingerprint they are kept for `extendFingerprint`.
    private func fingerprint(_ bytes: [UInt8]) {
        identity = FileIdentity(device: identity.device, inode: identity.inode, head: bytes)
        head = bytes.count < FileIdentity.maximumPrefix ? bytes : nil
    }

    /// Whether the fingerprint covers fewer bytes than it could: `extendFingerprint` then wants the
    /// bytes of each read.
    var fingerprintIsShort: Bool { head != nil }

    /// Extends a short fingerprint with `bytes`, just read at `offset`, while they reach past it.
    func extendFingerprint(with bytes: UnsafeRawBufferPointer, at offset: Int64) {
        guard var known = head, offset >= 0, offset <= Int64(known.count) else { return }
        let start = Int(offset)
        let taken = min(bytes.count, FileIdentity.maximumPrefix - start)
        guard start + taken > known.count else { return }
        known.removeSubrange(start...)
        known.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<taken]))
        fingerprint(known)
    }

    /// Starts over at offset 0 after a truncation.
    func rewind() throws(SystemError) {
        guard let descriptor else { return }
        try FileIO.seek(descriptor, to: 0)
        splitter.reset()
        // What was pending is read again from the copy, from the handed offset on.
        joiner?.reset()
        readOffset = 0
        handedOffset = 0
        checkpointedOffset = 0
        let status = try FileStatus.of(descriptor: descriptor)
        knownSize = status.size
        checkedSize = status.size
        atEndOfFile = false
        fingerprint(try FileIdentity.head(descriptor, size: status.size))
        originCounter = nil
    }

    /// Bytes read that no record handed on holds yet: a line without its newline and a pending
    /// multiline record. The checkpoint stays before them.
    var unhandedBytes: Int { splitter.pendingBytes + (joiner?.pendingBytes ?? 0) }

    /// The counter of its records' origins, set to the next line the splitter hands out.
    func origins() -> OriginCounter {
        let counter = originCounter ?? OriginCounter(device: identity.device, inode: identity.inode) { [openDescriptor] in openDescriptor.value }
        originCounter = counter
        counter.nextOffset = readOffset - Int64(unhandedBytes)
        return counter
    }

    /// Bytes a crash would read again: the file's size beyond what the checkpoint holds.
    var lagBytes: Int64 { Self.lag(size: knownSize, read: readOffset, checkpointed: checkpointedOffset) }

    private static func lag(size: Int64, read: Int64, checkpointed: Int64) -> Int64 { max(0, max(size, read) - checkpointed) }

    var checkpointEntry: Checkpoint.Entry {
        Checkpoint.Entry(path: origin, identity: identity, offset: handedOffset)
    }
}

/// A file's descriptor as its origin counter reads it.
private final class DescriptorCell {
    var value: Int32?
}
