import Glibc
import Records
import SystemSupport

/// Finds a file by identity: the copy copytruncate left, or where a checkpointed file went while we
/// were not running.
enum CopyFinder {
    /// Where what is found is read into, and under which path its lines are shipped.
    struct Target {
        let origin: String
        let buffer: ReadBuffer
        let maxLineBytes: Int
        let isCopy: Bool
        let nowMs: Int64
        /// Files already followed are not copies of anything.
        var isKnown: (FileStatus) -> Bool = { _ in false }
    }

    /// A file in `directory` that starts with `identity`'s fingerprint and holds at least `atLeast`
    /// bytes: the copy of the truncated file. It is opened at `from`, ready to drain.
    static func findCopy(
        of identity: FileIdentity, atLeast: Int64, from: Int64, in directory: String, excluding: String, target: Target,
        accepting: (String) -> Bool = { _ in true }
    ) throws(SystemError) -> TailedFile? {
        let candidates = Path.entries(of: directory).sorted().map { Path.join(directory, $0) }.filter { $0 != excluding && accepting($0) }
        return try firstCopy(of: identity, among: candidates, atLeast: atLeast, at: from, target: target)
    }

    /// The first of `candidates` that is another inode, holds at least `atLeast` bytes and starts with
    /// `identity`'s fingerprint, opened at `offset`.
    static func firstCopy(
        of identity: FileIdentity, among candidates: [String], atLeast: Int64, at offset: Int64, target: Target
    ) throws(SystemError) -> TailedFile? {
        for candidate in candidates {
            guard let status = try FileStatus.at(candidate), status.isRegularFile, status.size >= atLeast,
                !identity.sameInode(status), !target.isKnown(status)
            else { continue }
            if let file = try open(candidate, matching: identity, at: offset, target: target) { return file }
        }
        return nil
    }

    /// Opens `path` at `offset` if its first bytes carry `identity`'s fingerprint.
    static func open(_ path: String, matching identity: FileIdentity, at offset: Int64, target: Target) throws(SystemError) -> TailedFile? {
        let fd: Int32
        do { fd = try FileIO.open(path, flags: O_RDONLY | O_CLOEXEC) } catch  where error.errno == ENOENT || error.errno == EACCES { return nil }
        let matches: Bool
        do { matches = try identity.prefixMatches(fd) } catch {
            FileIO.close(fd)
            throw error
        }
        FileIO.close(fd)
        guard matches else { return nil }
        return try TailedFile.open(
            path: path, origin: target.origin, listed: false, offset: offset, buffer: target.buffer, maxLineBytes: target.maxLineBytes,
            nowMs: target.nowMs, isCopy: target.isCopy)
    }
}
