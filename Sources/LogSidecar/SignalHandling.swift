import CLinux
import Exec
import Glibc
import Synchronization
import SystemSupport

/// Signals are blocked in every thread and taken by one thread with `sigwait`, so no handler ever runs
/// inside the reading loop. SIGTERM/SIGINT: drain and stop; a second one exits at once. SIGHUP: reopen.
/// In exec mode every signal of the contract goes to the child instead, SIGCHLD reaps, and we stop
/// once the child has exited.
package enum SignalHandling {
    static let stopping = [SIGTERM, SIGINT, SIGHUP]
    /// What exec mode passes on to the child.
    static let forwarded = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]
    /// Forwarded signals after which the child is not started again.
    static let terminating = [SIGTERM, SIGINT, SIGQUIT]

    /// Call first in `main`, before any thread exists, so every thread inherits the mask.
    package static func blockSignals() {
        block(stopping)
        // A closed stdout pipe must be an error we count and retry, not a silent death.
        Glibc.signal(SIGPIPE, SIG_IGN)
    }

    /// Exec mode's signals too (SIGQUIT, SIGUSR1, SIGUSR2 would otherwise end us; SIGCHLD must queue
    /// for the reaper); also before any thread exists.
    package static func blockExecSignals() { block(forwarded + [SIGCHLD]) }

    private static func block(_ signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Starts the thread that takes the signals; `main` stops it once the daemon has finished.
    package static func startWaiting(
        control: DaemonControl, child: ChildWatch? = nil, onSignal: @escaping @Sendable (Int32) -> Void
    ) throws(SystemError) -> SignalWaiter {
        try SignalWaiter(control: control, child: child, onSignal: onSignal)
    }
}

/// The thread that takes the signals, owned by `main`, which stops and joins it.
package final class SignalWaiter: @unchecked Sendable {  // `thread` is written once, in `init`
    private let done = Atomic<Bool>(false)
    private var thread: NamedThread?

    fileprivate init(control: DaemonControl, child: ChildWatch?, onSignal: @escaping @Sendable (Int32) -> Void) throws(SystemError) {
        thread = try NamedThread.start(name: "signals") { [self] in wait(control: control, child: child, onSignal: onSignal) }
    }

    /// Ends the thread: a SIGHUP sent to it alone wakes its `sigwait`, and it returns.
    package func stop() {
        done.store(true, ordering: .sequentiallyConsistent)
        thread?.send(SIGHUP)
        thread?.join()
    }

    private func wait(control: DaemonControl, child: ChildWatch?, onSignal: @Sendable (Int32) -> Void) {
        let (stopping, forwarded, terminating) = (SignalHandling.stopping, SignalHandling.forwarded, SignalHandling.terminating)
        var set = sigset_t()
        sigemptyset(&set)
        for signal in child == nil ? stopping : forwarded + [SIGCHLD] { sigaddset(&set, signal) }
        var stops = 0
        while true {
            var received: Int32 = 0
            guard sigwait(&set, &received) == 0 else { continue }
            if done.load(ordering: .sequentiallyConsistent) { return }
            if let child {
                // The drain deadline starts here, when the child is gone for good, not when the
                // reading loop notices: it may be retrying a failing sink meanwhile.
                if received == SIGCHLD {
                    switch child.reap() {
                    case .nothing: break
                    case .exited: control.wake()
                    case .exitedForGood: control.requestStop()
                    }
                    continue
                }
                onSignal(received)
                let terminates = terminating.contains(received)
                if terminates { child.stopRequested.store(true, ordering: .sequentiallyConsistent) }
                if received == SIGHUP { control.requestReopen() }
                // No child running (between two starts): a terminating signal stops us at once.
                if !child.forward(received) && terminates { control.requestStop() }
                control.wake()
                continue
            }
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
