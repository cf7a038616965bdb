import Glibc
import Synchronization
import SystemSupport

/// What the signal thread tells the reading loop: stop, reopen. A self-pipe wakes the loop out of
/// `poll()` so a signal is acted on at once, not at the next poll tick.
package final class DaemonControl: Sendable {
    package let stopRequested = Atomic<Bool>(false)
    package let reopenRequested = Atomic<Bool>(false)
    /// Monotonic ms after which a stopping daemon gives up delivering: `shutdown.drain_timeout_ms` after
    /// the signal, even when the signal arrives while a sink is being retried.
    let drainDeadlineMs = Atomic<Int64>(.max)
    private let drainTimeoutMs: Int64
    /// A self-pipe: the read end is polled, the write end is written to wake the loop.
    package let wakeDescriptor: Int32
    private let wakeWriter: Int32

    package init(drainTimeoutMs: Int) throws(SystemError) {
        self.drainTimeoutMs = Int64(drainTimeoutMs)
        var ends: [Int32] = [0, 0]
        _ = try syscallValue("pipe") { pipe(&ends) }
        for fd in ends {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeDescriptor = ends[0]
        wakeWriter = ends[1]
    }

    package func requestStop() {
        _ = drainDeadlineMs.compareExchange(
            expected: .max, desired: MonotonicClock.milliseconds() + drainTimeoutMs, ordering: .sequentiallyConsistent)
        stopRequested.store(true, ordering: .sequentiallyConsistent)
        wake()
    }

    package func requestReopen() {
        reopenRequested.store(true, ordering: .sequentiallyConsistent)
        wake()
    }

    /// True once per SIGHUP: whoever takes it reopens the outputs.
    func takeReopenRequest() -> Bool { reopenRequested.exchange(false, ordering: .sequentiallyConsistent) }

    package var isStopping: Bool { stopRequested.load(ordering: .sequentiallyConsistent) }

    var drainDeadlinePassed: Bool {
        isStopping && MonotonicClock.milliseconds() >= drainDeadlineMs.load(ordering: .relaxed)
    }

    func wake() {
        var one: UInt8 = 1
        _ = Glibc.write(wakeWriter, &one, 1)
    }

    /// Clears pending wake-ups (the flags carry what they meant).
    func clearWake() {
        var drained = [UInt8](repeating: 0, count: 64)
        while Glibc.read(wakeDescriptor, &drained, drained.count) > 0 {}
    }

    /// Sleeps until `extra` is readable, a wake-up, or `timeoutMs`.
    @discardableResult
    func wait(timeoutMs: Int, also extra: Int32? = nil) -> Bool {
        wait(timeoutMs: timeoutMs, also: extra.map { [$0] } ?? [])
    }

    /// Sleeps until one of `extra` is readable (or at its end), a wake-up, or `timeoutMs`; true when
    /// a wake-up ended it (a flag to look at).
    @discardableResult
    func wait(timeoutMs: Int, also extra: [Int32]) -> Bool { waitReporting(timeoutMs: timeoutMs, also: extra).woken }

    /// `wait`, and which of `extra` (bit i: `extra[i]`, the first 64) became readable.
    /// The poll set is on the stack: this runs once a quiet second, and a heap array is most of what
    /// the wait costs besides the system call.
    func waitReporting(timeoutMs: Int, also extra: [Int32]) -> (woken: Bool, readable: UInt64) {
        let (woken, readable) = withUnsafeTemporaryAllocation(of: pollfd.self, capacity: extra.count + 1) { fds in
            fds[0] = pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)
            for (index, fd) in extra.enumerated() { fds[index + 1] = pollfd(fd: fd, events: Int16(POLLIN), revents: 0) }
            _ = Glibc.poll(fds.baseAddress, nfds_t(fds.count), Int32(clamping: max(0, timeoutMs)))
            var readable: UInt64 = 0
            for index in 1..<min(fds.count, 65) where fds[index].revents != 0 { readable |= 1 << UInt64(index - 1) }
            return (fds[0].revents != 0, readable)
        }
        if woken { clearWake() }
        return (woken, readable)
    }
}
