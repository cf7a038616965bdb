import Glibc
import SystemSupport

/// A thin wrapper over inotify(7). Events are only hints to go and look: the file server re-checks the
/// file with stat after any of them, so a coalesced, missed or overflowed event can never lose a line.
package final class Inotify {
    package let descriptor: Int32
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)

    package init() throws(SystemError) {
        descriptor = try syscallValue("inotify_init1") { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
    }

    deinit {
        FileIO.close(descriptor)
        buffer.deallocate()
    }

    /// Watches `path`; `nil` when it does not exist (yet).
    package func watch(_ path: String, mask: UInt32) throws(SystemError) -> Int32? {
        let wd = inotify_add_watch(descriptor, path, mask)
        if wd >= 0 { return wd }
        let code = errno
        if code == ENOENT || code == ENOTDIR { return nil }
        throw SystemError(call: "inotify_add_watch", subject: path, errno: code)
    }

    package func removeWatch(_ wd: Int32) {
        _ = inotify_rm_watch(descriptor, wd)
    }

    package struct Drained {
        package var events = 0
        package var overflowed = false
        /// Watches whose directory went away: they must be set up again.
        package var lostWatches: [Int32] = []
        /// Watches in whose directory an entry was created, moved or deleted: list it again.
        package var changedDirectories: Set<Int32> = []
        /// Files written to, by watch and name: read them.
        package var written: [(watch: Int32, name: String)] = []

        package init() {}
    }

    private static let structural = UInt32(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB)
    private static let writes = UInt32(IN_MODIFY | IN_CLOSE_WRITE)

    /// Reads every queued event without blocking.
    package func drain() throws(SystemError) -> Drained {
        var result = Drained()
        while true {
            let count = try syscall("read", "inotify") { Glibc.read(descriptor, buffer.baseAddress!, buffer.count) }
            guard let count, count > 0 else { return result }
            let raw = UnsafeRawBufferPointer(buffer)
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= count {
                let watch = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let nameLength = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                result.events += 1
                if mask & UInt32(IN_Q_OVERFLOW) != 0 { result.overflowed = true }
                if mask & UInt32(IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF) != 0 { result.lostWatches.append(watch) }
                if mask & Self.structural != 0 { result.changedDirectories.insert(watch) }
                if mask & Self.writes != 0, nameLength > 0, offset + header + nameLength <= count {
                    let name = UnsafeRawBufferPointer(rebasing: raw[(offset + header)..<(offset + header + nameLength)])
                    let end = name.firstIndex(of: 0) ?? name.count
                    result.written.append((watch, String(decoding: UnsafeRawBufferPointer(rebasing: name[0..<end]), as: UTF8.self)))
                }
                offset += header + nameLength
            }
            // A short read took everything queued: asking again would only say EAGAIN.
            if count < buffer.count - 4096 { return result }
        }
    }

    /// What the file server wants to hear about in the watched directory.
    package static let directoryMask = UInt32(
        IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE
            | IN_DELETE_SELF | IN_MOVE_SELF)
}
