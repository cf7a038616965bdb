import CLinux
import Glibc

/// A long-lived thread of our own, for work that blocks (`sigwait`, a condition variable, a socket) and
/// so must never sit on Swift's concurrency pool. Every one is named (what `/proc/PID/task/*/comm` and
/// `top -H` show) and belongs to what started it, which joins it when it stops.
package final class NamedThread: @unchecked Sendable {  // `thread` is written once, before anyone else sees it
    private final class Box {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    package let name: String
    private var thread = pthread_t()
    private var joined = false

    private init(name: String) { self.name = name }

    /// Starts `body` on a new thread called `name` (the kernel keeps 15 bytes of it).
    package static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemError) -> NamedThread {
        let handle = NamedThread(name: name)
        let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        let result = pthread_create(
            &handle.thread, nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                _ = clinux_name_thread(box.name)
                box.body()
                return nil
            }, box)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemError(call: "pthread_create", subject: name, errno: result)
        }
        return handle
    }

    /// Sends `signal` to this thread alone (one blocked in `sigwait` for it wakes up).
    package func send(_ signal: Int32) { pthread_kill(thread, signal) }

    /// Waits for the thread's body to return. Its owner calls this once, after telling it to stop.
    package func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }
}
