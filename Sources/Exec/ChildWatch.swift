import CLinux
import Configuration
import Glibc
import Synchronization
import SystemSupport

/// What the signal thread and the reading loop share about the child: its pid, how it exited, and
/// whether a stop was asked for. The signal thread reaps (SIGCHLD) and forwards signals; the loop
/// spawns and takes the exit. Spawning holds the lock, so a child that exits at once is still known
/// by its pid when the reaper sees it.
package final class ChildWatch: Sendable {
    private struct State {
        var pid: pid_t = 0
        var running = false
        var exit: ExitStatus?
    }

    private let state = Mutex(State())
    /// A terminating signal arrived: the child is not started again, and we stop once it has exited.
    package let stopRequested = Atomic<Bool>(false)
    /// The descriptors we were started with (beyond 0-2): the child inherits them, as it would from a
    /// shell (systemd's socket activation passes its sockets this way); every later one is ours.
    private let inherited: Set<Int32>

    private let restart: RestartPolicy

    /// Before the daemon opens anything of its own.
    package init(restart: RestartPolicy) {
        self.restart = restart
        inherited = Self.openDescriptors()
    }

    private static func openDescriptors() -> Set<Int32> {
        Set(Path.entries(of: "/proc/self/fd").compactMap { Int32($0) })
    }

    /// Marks every descriptor we opened close-on-exec: our own calls ask for it, but a library's may
    /// not, and a child that kept one open (the health port's socket, say) could stop our next start
    /// from binding it.
    private func closeOursOnExec() {
        for fd in Self.openDescriptors() where fd > 2 && !inherited.contains(fd) {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// As PID 1 we already reap every orphan; anywhere else the kernel gives them to us only if asked.
    package static func becomeSubreaper() {
        if getpid() != 1 { _ = clinux_become_subreaper() }
    }

    /// Starts the child; nil when a terminating signal came first (before it, not lost: the signal
    /// thread sets `stopRequested` before it takes the lock to forward).
    func spawn(_ command: [String]) throws(SpawnError) -> ChildProcess.Started? {
        closeOursOnExec()
        return try state.withLock { state throws(SpawnError) in
            if stopRequested.load(ordering: .sequentiallyConsistent) { return nil }
            let started = try ChildProcess.spawn(command)
            state = State(pid: started.pid, running: true, exit: nil)
            return started
        }
    }

    /// What a SIGCHLD meant for the child.
    package enum Reaped { case nothing, exited, exitedForGood }

    /// On SIGCHLD: reaps every exited descendant (orphans included), and says whether the child was
    /// among them and whether it will be started again (the supervisor decides the same way).
    /// Under the lock, so `forward` never signals a pid that was reaped (and possibly reused).
    package func reap() -> Reaped {
        let exit: ExitStatus? = state.withLock { state in
            var childExit: ExitStatus?
            while true {
                var status: Int32 = 0
                let pid = waitpid(-1, &status, WNOHANG)
                if pid <= 0 { return childExit }
                if state.running && pid == state.pid {
                    state.running = false
                    state.exit = ExitStatus(waitStatus: status)
                    childExit = state.exit
                }
            }
        }
        guard let exit else { return .nothing }
        return willRestart(after: exit) ? .exited : .exitedForGood
    }

    /// The one rule for a start after `exit`: the policy allows it and no terminating signal came.
    func willRestart(after exit: ExitStatus) -> Bool {
        !stopRequested.load(ordering: .sequentiallyConsistent) && restart.restarts(after: exit)
    }

    /// Sends `signal` to the running child; false when none runs.
    @discardableResult
    package func forward(_ signal: Int32) -> Bool {
        state.withLock { state in
            guard state.running else { return false }
            kill(state.pid, signal)
            return true
        }
    }

    /// The child's exit, once, after the reaper saw it.
    func takeExit() -> ExitStatus? {
        state.withLock { state in
            defer { state.exit = nil }
            return state.exit
        }
    }
}
