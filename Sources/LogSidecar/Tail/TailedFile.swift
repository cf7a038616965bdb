import Glibc

/// One open file being read: the current file, a rotated one being drained, or a copytruncate copy.
final class TailedFile {
    let descriptor: Int32
    var path: String
    var identity: FileIdentity
    /// Bytes read from the descriptor so far.
    var readOffset: Int64
    /// Every byte before this has been accepted by every sink.
    var acknowledgedOffset: Int64
    var splitter: LineSplitter
    /// Monotonic time the file was last seen to grow: a rotated file is closed once it is quiet.
    var lastGrowthMs: Int64
    var lastSize: Int64
    /// A copytruncate copy never grows again: it is closed as soon as it is read to the end.
    let isCopy: Bool
    var atEndOfFile = false

    init(descriptor: Int32, path: String, identity: FileIdentity, offset: Int64, maxLineBytes: Int, isCopy: Bool = false) {
        self.descriptor = descriptor
        self.path = path
        self.identity = identity
        readOffset = offset
        acknowledgedOffset = offset
        splitter = LineSplitter(maxLineBytes: maxLineBytes)
        lastGrowthMs = MonotonicClock.milliseconds()
        lastSize = offset
        self.isCopy = isCopy
    }

    deinit { FileIO.close(descriptor) }

    /// Opens `path` at `offset`, or returns nil when it is not there.
    static func open(path: String, offset: Int64?, maxLineBytes: Int, isCopy: Bool = false) throws(SystemError) -> TailedFile? {
        let fd: Int32
        do {
            fd = try FileIO.open(path, flags: O_RDONLY)
        } catch where error.errno == ENOENT {
            return nil
        }
        do {
            let status = try FileStatus.of(descriptor: fd)
            let identity = try FileIdentity.of(descriptor: fd, status: status)
            let start = min(offset ?? status.size, status.size)
            try FileIO.seek(fd, to: start)
            return TailedFile(descriptor: fd, path: path, identity: identity, offset: start, maxLineBytes: maxLineBytes, isCopy: isCopy)
        } catch {
            FileIO.close(fd)
            throw error
        }
    }

    /// Extends the fingerprint while the file is still shorter than its full prefix.
    func refreshIdentity() throws(SystemError) {
        guard identity.prefixLength < FileIdentity.maximumPrefix, readOffset > Int64(identity.prefixLength) else { return }
        identity = try FileIdentity.of(descriptor: descriptor, status: FileStatus.of(descriptor: descriptor))
    }

    /// Starts over at offset 0 after a truncation.
    func rewind() throws(SystemError) {
        try FileIO.seek(descriptor, to: 0)
        splitter.reset()
        readOffset = 0
        acknowledgedOffset = 0
        lastSize = 0
        atEndOfFile = false
        identity = try FileIdentity.of(descriptor: descriptor, status: FileStatus.of(descriptor: descriptor))
    }

    var checkpointEntry: Checkpoint.Entry {
        Checkpoint.Entry(path: path, identity: identity, offset: acknowledgedOffset)
    }
}
