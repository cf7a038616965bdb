import CLinux
import Glibc
import SystemSupport

/// journald's native protocol on its datagram socket, spoken by us rather than through libsystemd's
/// `sd_journal_sendv`: libsystemd hides its socket, and only our own socket can tell whether journald
/// has read what we sent (`SIOCOUTQ`). A journald that is killed or restarted before it reads its queue
/// loses those entries although every send succeeded.
final class JournaldSocket {
    let path: String
    private var descriptor: Int32 = -1

    init(path: String) { self.path = path }

    deinit { close() }

    func close() {
        if descriptor >= 0 { FileIO.close(descriptor) }
        descriptor = -1
    }

    /// The socket file as `stat` sees it; nil when there is none. A restarted journald binds a new one.
    func socketFile() -> FileStatus? { try? FileStatus.at(path) }

    /// Whether a journald is bound to the socket now (a killed one leaves its socket file behind).
    func isListening() -> Bool { clinux_probe_datagram_socket(path) == 0 }

    /// Bytes sent that journald has not read yet.
    func unreadBytes() -> Int {
        descriptor < 0 ? 0 : Int(max(0, clinux_unread_output_bytes(descriptor)))
    }

    /// Sends one entry; an entry larger than a datagram may be goes in a sealed memfd, as libsystemd does.
    func send(_ entry: UnsafeRawBufferPointer) throws(SystemError) {
        try openIfNeeded()
        while true {
            if clinux_send_datagram(descriptor, path, entry.baseAddress, entry.count) >= 0 { return }
            let code = errno
            switch code {
            case EINTR: continue
            case EMSGSIZE, ENOBUFS: return try sendInMemoryFile(entry)
            default: throw SystemError(call: "sendto", subject: path, errno: code)
            }
        }
    }

    private func sendInMemoryFile(_ entry: UnsafeRawBufferPointer) throws(SystemError) {
        let memory = try syscallValue("memfd_create", "journal entry") { clinux_memfd("journal-entry") }
        defer { FileIO.close(memory) }
        try FileIO.writeAll(memory, entry)
        _ = try syscallValue("fcntl(F_ADD_SEALS)", "journal entry") { clinux_seal_all(memory) }
        _ = try syscallValue("sendmsg(SCM_RIGHTS)", path) { clinux_send_descriptor(descriptor, path, memory) }
    }

    private func openIfNeeded() throws(SystemError) {
        guard descriptor < 0 else { return }
        descriptor = try syscallValue("socket", "AF_UNIX") { socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        // Room for many entries in flight, as libsystemd asks for (the kernel caps it at wmem_max).
        var size: Int32 = 8 << 20
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
}
