import Glibc

/// Signals are blocked in every thread and taken by one thread with `sigwait`, so no handler ever runs
/// inside the reading loop. SIGTERM/SIGINT: drain and stop; a second one exits at once. SIGHUP: reopen.
public enum SignalHandling {
    /// Call first in `main`, before any thread exists, so every thread inherits the mask.
    public static func blockSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        // A closed stdout pipe must be an error we count and retry, not a silent death.
        Glibc.signal(SIGPIPE, SIG_IGN)
    }

    public static func startWaiting(control: DaemonControl, onSignal: @escaping @Sendable (Int32) -> Void) throws(SystemError) {
        try PosixThread.start {
            var set = sigset_t()
            sigemptyset(&set)
            for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, signal) }
            var stops = 0
            while true {
                var received: Int32 = 0
                guard sigwait(&set, &received) == 0 else { continue }
                onSignal(received)
                if received == SIGHUP {
                    control.requestReopen()
                    continue
                }
                stops += 1
                if stops > 1 { _exit(128 + received) }
                control.requestStop()
            }
        }
    }
}

/// A plain detached pthread, for the `sigwait` loop: it blocks for good and must never sit on Swift's
/// concurrency pool.
public enum PosixThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    public static func start(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemError(call: "pthread_create", errno: result)
        }
        pthread_detach(thread)
    }
}
