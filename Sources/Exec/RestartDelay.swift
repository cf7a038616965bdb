import Configuration
import SystemSupport

extension RestartPolicy {
    /// Whether `exec.restart` starts the child again after `status`.
    func restarts(after status: ExitStatus) -> Bool {
        switch self {
        case .never: return false
        case .onFailure: return !status.succeeded
        case .always: return true
        }
    }
}

extension Backoff {
    /// Exec mode's restart delay: doubling from 1 s to 30 s over consecutive short runs.
    static func restart() -> Backoff { Backoff(firstMs: 1_000, maximumMs: 30_000, jitter: false) }

    /// The delay before the next start, for a child that ran `ranForMs`. A child that ran longer than
    /// the cap had been working, so its next failure starts the sequence over, as systemd's and
    /// Kubernetes' restart backoff do.
    mutating func delay(afterRunningMs ranForMs: Int64) -> Int64 {
        if ranForMs >= maximumMs { reset() }
        return next()
    }
}
