import Glibc

/// Finds a file by identity in a directory: the copy copytruncate left, or where a checkpointed file
/// went while we were not running.
enum CopyFinder {
    /// A sibling that starts with `identity`'s fingerprint and holds at least `atLeast` bytes: the copy
    /// of the truncated file. It is opened at `from`, ready to drain.
    static func findCopy(
        of identity: FileIdentity, atLeast: Int64, from: Int64, in directory: String, excluding: String, maxLineBytes: Int
    ) throws(SystemError) -> TailedFile? {
        let candidates = Path.entries(of: directory).sorted().map { Path.join(directory, $0) }.filter { $0 != excluding }
        return try firstCopy(of: identity, among: candidates, atLeast: atLeast, at: from, maxLineBytes: maxLineBytes, isCopy: true)
    }

    /// The first of `candidates` that is another inode, holds at least `atLeast` bytes and starts with
    /// `identity`'s fingerprint, opened at `offset`.
    static func firstCopy(
        of identity: FileIdentity, among candidates: [String], atLeast: Int64, at offset: Int64, maxLineBytes: Int, isCopy: Bool
    ) throws(SystemError) -> TailedFile? {
        for candidate in candidates {
            guard let status = try FileStatus.at(candidate), !status.isDirectory, status.size >= atLeast,
                !identity.sameInode(status)
            else { continue }
            if let file = try open(candidate, matching: identity, at: offset, maxLineBytes: maxLineBytes, isCopy: isCopy) {
                return file
            }
        }
        return nil
    }

    /// Opens `path` at `offset` if its first bytes carry `identity`'s fingerprint.
    static func open(
        _ path: String, matching identity: FileIdentity, at offset: Int64, maxLineBytes: Int, isCopy: Bool
    ) throws(SystemError) -> TailedFile? {
        let fd: Int32
        do { fd = try FileIO.open(path, flags: O_RDONLY) } catch where error.errno == ENOENT || error.errno == EACCES { return nil }
        let matches: Bool
        do { matches = try identity.prefixMatches(fd) } catch { FileIO.close(fd); throw error }
        FileIO.close(fd)
        guard matches else { return nil }
        return try TailedFile.open(path: path, offset: offset, maxLineBytes: maxLineBytes, isCopy: isCopy)
    }
}
