import CLinux
import Glibc
import SystemSupport

/// The health server's thread: one `poll` over the stop signal, the listening socket and every open
/// connection. At `maximumConnections` the listening socket is left out of the poll, so further
/// clients wait in the kernel's backlog, not in our descriptor table: no client, however many idle
/// connections it opens, can take the descriptors that following, rotating and checkpointing need.
struct HealthLoop: Sendable {
    let listener: Int32
    let wake: Int32
    let maximumConnections: Int
    let routes: HealthRoutes

    /// How long accepting pauses when the process is out of descriptors (EMFILE): the listening socket
    /// stays readable, and polling it at once again would spin.
    static let acceptPauseMs: Int64 = 1_000
    /// How long the loop waits after `poll` itself fails.
    static let pollErrorPauseMs = 100

    func run() {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)
        defer { scratch.deallocate() }
        var connections: [HealthConnection] = []
        var descriptors: [pollfd] = []
        var acceptPausedUntilMs: Int64 = 0
        defer { for connection in connections { close(connection.fd) } }
        let answer = { (head: HTTPRequestHead) -> [UInt8] in
            let answer = routes.answer(method: head.method, path: head.path)
            return HTTPResponse.bytes(
                answer, minorVersion: head.minorVersion, keepAlive: head.keepAlive, includeBody: !head.method.elementsEqual("HEAD".utf8))
        }
        while true {
            var nowMs = MonotonicClock.milliseconds()
            let accepting = connections.count < maximumConnections && nowMs >= acceptPausedUntilMs
            descriptors.removeAll(keepingCapacity: true)
            descriptors.append(pollfd(fd: wake, events: Int16(POLLIN), revents: 0))
            // A negative descriptor is one poll passes over.
            descriptors.append(pollfd(fd: accepting ? listener : -1, events: Int16(POLLIN), revents: 0))
            var timeoutMs = acceptPausedUntilMs > nowMs ? acceptPausedUntilMs - nowMs : -1
            for connection in connections {
                descriptors.append(pollfd(fd: connection.fd, events: Int16(connection.isWriting ? POLLOUT : POLLIN), revents: 0))
                let left = max(0, connection.deadlineMs - nowMs)
                timeoutMs = timeoutMs < 0 ? left : min(timeoutMs, left)
            }
            let ready = poll(&descriptors, nfds_t(descriptors.count), Int32(clamping: timeoutMs))
            if ready < 0 && errno != EINTR {
                // ENOMEM and the like: wait a little before trying again rather than spin.
                _ = poll(nil, 0, Int32(Self.pollErrorPauseMs))
                continue
            }
            if descriptors[0].revents != 0 { return }
            nowMs = MonotonicClock.milliseconds()
            var index = connections.count - 1
            while index >= 0 {
                let events = Int32(descriptors[index + 2].revents)
                var outcome = HealthConnection.Outcome.open
                if events & Int32(POLLOUT) != 0 {
                    outcome = connections[index].writable(answer: answer)
                } else if events & Int32(POLLIN | POLLHUP | POLLERR) != 0 {
                    outcome = connections[index].readable(nowMs: nowMs, scratch: scratch, answer: answer)
                } else if events != 0 {
                    outcome = .closed
                }
                if outcome == .open && connections[index].deadlineMs <= nowMs { outcome = .closed }
                if outcome == .closed {
                    close(connections[index].fd)
                    connections.swapAt(index, connections.count - 1)
                    connections.removeLast()
                }
                index -= 1
            }
            guard accepting, descriptors[1].revents != 0 else { continue }
            while connections.count < maximumConnections {
                let fd = clinux_accept_nonblocking(listener)
                if fd >= 0 {
                    connections.append(HealthConnection(fd: fd, nowMs: nowMs))
                    continue
                }
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM { acceptPausedUntilMs = nowMs + Self.acceptPauseMs }
                break
            }
        }
    }
}
