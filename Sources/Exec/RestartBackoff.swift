import Configuration

/// When an exited child is started again: `exec.restart` decides whether, and the delay doubles from
/// 1 s to 30 s over consecutive short runs. A child that ran longer than the cap had been working, so
/// its next failure starts the sequence over, as systemd's and Kubernetes' restart backoff do.
struct RestartBackoff {
    static let firstDelayMs: Int64 = 1_000
    static let maximumDelayMs: Int64 = 30_000
    private(set) var nextDelayMs = firstDelayMs

    static func shouldRestart(_ policy: RestartPolicy, after status: ExitStatus) -> Bool {
        switch policy {
        case .never: return false
        case .onFailure: return !status.succeeded
        case .always: return true
        }
    }

    /// The delay before the next start, for a child that ran `ranForMs`.
    mutating func delay(afterRunningMs ranForMs: Int64) -> Int64 {
        if ranForMs >= Self.maximumDelayMs { nextDelayMs = Self.firstDelayMs }
        let delay = nextDelayMs
        nextDelayMs = min(nextDelayMs * 2, Self.maximumDelayMs)
        return delay
    }
}
