import CLinux
import Glibc

/// Why the command could not be started; its exit code is a shell's: 127 not found, 126 not runnable.
package struct SpawnError: Error, CustomStringConvertible {
    let command: String
    let errno: Int32
    /// The call that failed: `posix_spawn`, or `pipe2` before it.
    let call: String

    package var exitCode: Int32 { call == "posix_spawn" && (errno == ENOENT || errno == ENOTDIR) ? 127 : 126 }

    package var description: String {
        let reason = String(cString: strerror(errno))
        switch exitCode {
        case 127: return "\(command): command not found (\(reason))"
        default: return call == "posix_spawn" ? "\(command): cannot execute (\(reason))" : "\(command): \(call) failed (\(reason))"
        }
    }
}

/// Starts the application: `posix_spawnp`, no shell, stdin and environment inherited, stdout and
/// stderr on pipes whose read ends are ours (non-blocking, close-on-exec, so a later child never
/// holds them).
enum ChildProcess {
    struct Started {
        let pid: pid_t
        let stdout: Int32
        let stderr: Int32
    }

    /// A pipe's capacity: the kernel's default 64 KiB makes a fast child wait for us every 64 KiB;
    /// 1 MiB (the unprivileged maximum, `fs.pipe-max-size`) lets it write on while we process a batch.
    static let pipeBytes: Int32 = 1 << 20

    static func spawn(_ command: [String]) throws(SpawnError) -> Started {
        let name = command.first ?? ""
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard clinux_pipe_cloexec(&out) == 0 else { throw SpawnError(command: name, errno: errno, call: "pipe2") }
        guard clinux_pipe_cloexec(&err) == 0 else {
            let code = errno
            close(out[0])
            close(out[1])
            throw SpawnError(command: name, errno: code, call: "pipe2")
        }
        var arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) }
        arguments.append(nil)
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let result = clinux_spawn(&pid, &arguments, environ, out[1], err[1])
        close(out[1])
        close(err[1])
        guard result == 0 else {
            close(out[0])
            close(err[0])
            throw SpawnError(command: name, errno: result, call: "posix_spawn")
        }
        for fd in [out[0], err[0]] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = clinux_set_pipe_size(fd, pipeBytes)
        }
        return Started(pid: pid, stdout: out[0], stderr: err[0])
    }
}
