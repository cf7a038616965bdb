import Glibc

/// Thin, typed wrappers over the descriptor calls the daemon uses; every failure names its call.
package enum FileIO {
    package static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(SystemError) -> Int32 {
        try syscallValue("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// Reads up to `count` bytes at the current position; 0 means end of file.
    package static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) throws(SystemError) -> Int {
        try syscall("read", "fd \(fd)") { Glibc.read(fd, buffer, count) } ?? 0
    }

    package static func pread(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, offset: Int64) throws(SystemError) -> Int {
        try syscallValue("pread", "fd \(fd)") { Glibc.pread(fd, buffer, count, off_t(offset)) }
    }

    package static func seek(_ fd: Int32, to offset: Int64) throws(SystemError) {
        _ = try syscallValue("lseek", "fd \(fd)") { Glibc.lseek(fd, off_t(offset), SEEK_SET) }
    }

    /// Writes every byte, retrying short writes; a blocking descriptor makes a slow reader slow us down.
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var done = 0
        try writeAll(fd, bytes, done: &done)
    }

    /// The same, with how far it got in `done` (also when it throws), so a caller can resume there.
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, done: inout Int) throws(SystemError) {
        while done < bytes.count {
            let written = try syscall("write", "fd \(fd)") {
                Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            }
            if let written { done += written } else { try waitWritable(fd) }
        }
    }

    /// For a descriptor someone else made non-blocking (a shared stdout pipe): wait, never drop.
    static func waitWritable(_ fd: Int32) throws(SystemError) {
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = try syscall("poll", "fd \(fd)") { Glibc.poll(&pfd, 1, 1000) }
    }

    package static func fsync(_ fd: Int32) throws(SystemError) {
        _ = try syscallValue("fsync", "fd \(fd)") { Glibc.fsync(fd) }
    }

    package static func rename(_ from: String, _ to: String) throws(SystemError) {
        _ = try syscallValue("rename", "\(from) -> \(to)") { Glibc.rename(from, to) }
    }

    package static func close(_ fd: Int32) {
        // close(2) must not be retried on EINTR on Linux: the descriptor is already gone.
        _ = Glibc.close(fd)
    }

    /// Creates `path` and its missing parents, as `mkdir -p`.
    package static func makeDirectories(_ path: String) throws(SystemError) {
        if path.isEmpty { return }
        if let status = try FileStatus.at(path), status.isDirectory { return }
        let parent = Path.directory(of: path)
        if parent != path { try makeDirectories(parent) }
        if Glibc.mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw SystemError(call: "mkdir", subject: path, errno: errno)
        }
    }

    /// Reads a whole (small) file: configuration and checkpoint files.
    package static func readFile(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = try open(path, flags: O_RDONLY)
        defer { close(fd) }
        var result: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
        defer { chunk.deallocate() }
        while true {
            let n = try read(fd, into: chunk.baseAddress!, count: chunk.count)
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
        }
    }

    /// Replaces `path` atomically: temp file, fsync, rename, fsync of the directory.
    package static func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws(SystemError) {
        let temporary = path + ".tmp"
        let fd = try open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(fd) }
        var failure: SystemError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemError) { try writeAll(fd, raw) } catch { failure = error }
        }
        if let failure { throw failure }
        try fsync(fd)
        try rename(temporary, path)
        // Without the directory fsync a power cut can bring back the old name.
        if let dirFD = try? open(Path.directory(of: path), flags: O_RDONLY | O_DIRECTORY) {
            _ = Glibc.fsync(dirFD)
            close(dirFD)
        }
    }
}

extension FileIO {
    /// Where the open file `fd` is now, as the kernel names it (`/proc/self/fd`): renames move the
    /// name, the descriptor stays. Nil when it has no name left (deleted) or /proc cannot say.
    package static func currentPath(of fd: Int32) -> String? {
        guard let status = try? FileStatus.of(descriptor: fd), status.linkCount > 0 else { return nil }
        var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/fd/\(fd)", &target, target.count - 1)
        guard length > 0, length < target.count - 1, target[0] == 0x2F else { return nil }
        return String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// String path helpers; Foundation's URL is not worth its size here.
package enum Path {
    package static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    package static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    package static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The names in a directory, without `.` and `..`; nil when it does not exist, an error when it
    /// cannot be read.
    package static func listing(of directory: String) throws(SystemError) -> [String]? {
        guard let dir = opendir(directory) else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw SystemError(call: "opendir", subject: directory, errno: code)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The names in a directory, without `.` and `..`; empty when it cannot be read.
    package static func entries(of directory: String) -> [String] {
        ((try? listing(of: directory)) ?? nil) ?? []
    }
}
