import Glibc

/// Finds a file by identity in a directory: the copy copytruncate left, or where a checkpointed file
/// went while we were not running.
enum CopyFinder {
    /// A sibling that starts with `identity`'s fingerprint and holds at least `atLeast` bytes: the copy
    /// of the truncated file. It is opened at `from`, ready to drain.
    static func findCopy(
        of identity: FileIdentity, atLeast: Int64, from: Int64, in directory: String, excluding: String, maxLineBytes: Int
    ) throws(SystemError) -> TailedFile? {
        for name in Path.entries(of: directory).sorted() {
            let candidate = Path.join(directory, name)
            if candidate == excluding { continue }
            guard let status = try FileStatus.at(candidate), !status.isDirectory, status.size >= atLeast,
                !identity.sameInode(status)
            else { continue }
            if let file = try open(candidate, matching: identity, at: from, maxLineBytes: maxLineBytes, isCopy: true) {
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
