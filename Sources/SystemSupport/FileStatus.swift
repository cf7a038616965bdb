import Glibc

/// The parts of `stat(2)` that rotation detection needs.
package struct FileStatus: Equatable, Sendable {
    package var device: UInt64
    package var inode: UInt64
    package var size: Int64
    package var linkCount: UInt64
    package var isDirectory: Bool
    package var isRegularFile: Bool
    /// Modification and status-change times in ns: a directory whose times did not move has the same
    /// entries, so discovery need not list it again.
    package var modifiedNs: Int64
    package var changedNs: Int64

    // S_IFMT, S_IFDIR and S_IFREG as constants: Glibc's are functions, called on every stat of a quiet second.
    private static let typeMask: mode_t = 0o170000
    private static let directoryType: mode_t = 0o040000
    private static let regularType: mode_t = 0o100000

    init(_ raw: stat) {
        device = UInt64(raw.st_dev)
        inode = UInt64(raw.st_ino)
        size = Int64(raw.st_size)
        linkCount = UInt64(raw.st_nlink)
        isDirectory = raw.st_mode & Self.typeMask == Self.directoryType
        isRegularFile = raw.st_mode & Self.typeMask == Self.regularType
        modifiedNs = Int64(raw.st_mtim.tv_sec) * 1_000_000_000 + Int64(raw.st_mtim.tv_nsec)
        changedNs = Int64(raw.st_ctim.tv_sec) * 1_000_000_000 + Int64(raw.st_ctim.tv_nsec)
    }

    /// `nil` when nothing is at `path`; any other failure is an error.
    package static func at(_ path: String) throws(SystemError) -> FileStatus? {
        let outcome = path.withCString { cPath in Result { () throws(SystemError) -> FileStatus? in try at(cPath: cPath) } }
        return try outcome.get()
    }

    /// The same for a path already in C form (a path looked at every poll, converted once).
    package static func at(cPath path: UnsafePointer<CChar>) throws(SystemError) -> FileStatus? {
        var raw = stat()
        while stat(path, &raw) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == ENOENT || code == ENOTDIR { return nil }
            throw SystemError(call: "stat", subject: String(cString: path), errno: code)
        }
        return FileStatus(raw)
    }

    package static func of(descriptor fd: Int32) throws(SystemError) -> FileStatus {
        var raw = stat()
        _ = try syscallValue("fstat", "fd \(fd)") { fstat(fd, &raw) }
        return FileStatus(raw)
    }
}
