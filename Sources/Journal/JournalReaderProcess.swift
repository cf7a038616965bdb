import CLinux
import Glibc
import SystemSupport

/// The reader process as the daemon sees it: its pid and the read end of its stdout (non-blocking,
/// close-on-exec). Its stderr is the daemon's.
struct JournalReaderProcess {
    let pid: pid_t
    let descriptor: Int32

    /// A pipe of 1 MiB: the reader writes on while a batch is delivered.
    static let pipeBytes: Int32 = 1 << 20

    static func spawn(executable: String, arguments: [String]) throws(SystemError) -> JournalReaderProcess {
        var fds: [Int32] = [-1, -1]
        guard clinux_pipe_cloexec(&fds) == 0 else { throw SystemError(call: "pipe2", errno: errno) }
        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) }
        argv.append(nil)
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = clinux_spawn(&pid, &argv, environ, fds[1], 2)
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            throw SystemError(call: "posix_spawn \(executable)", errno: result)
        }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        _ = clinux_set_pipe_size(fds[0], pipeBytes)
        return JournalReaderProcess(pid: pid, descriptor: fds[0])
    }

    func terminate() { kill(pid, SIGKILL) }

    /// Closes the pipe and waits for the process: how it ended, as a shell says it.
    func reap() -> String {
        close(descriptor)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return "unknown (\(String(cString: strerror(errno))))" }
        }
        let signal = status & 0x7F
        if signal == 0 { return "exited with \((status >> 8) & 0xFF)" }
        return "killed by signal \(signal) (\(String(cString: strsignal(signal))))"
    }
}
