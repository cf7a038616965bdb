/// How a child ended, decoded from `waitpid`'s status (no WUNTRACED: it either exited or was killed).
enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case killed(signal: Int32)

    init(waitStatus: Int32) {
        let signal = waitStatus & 0x7f
        self = signal == 0 ? .exited((waitStatus >> 8) & 0xff) : .killed(signal: signal)
    }

    /// What a shell reports: the exit code, or 128 + N for signal N.
    var code: Int32 {
        switch self {
        case .exited(let code): return code
        case .killed(let signal): return 128 + signal
        }
    }

    var succeeded: Bool { self == .exited(0) }

    var description: String {
        switch self {
        case .exited(let code): return "exited with \(code)"
        case .killed(let signal): return "killed by signal \(signal)"
        }
    }
}
