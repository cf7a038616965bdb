import CLinux

/// How late the calling thread's timers (a `poll` timeout among them) may fire. With slack the kernel
/// may serve a timer together with another one due in that window instead of waking an idle CPU for
/// it alone.
package enum TimerSlack {
    /// Up to `milliseconds` (at most a minute) late, for this thread, until `reset`.
    package static func allow(milliseconds: Int) {
        _ = clinux_set_timer_slack(UInt(min(max(0, milliseconds), 60_000)) * 1_000_000)
    }

    /// Back to the thread's default (50 µs unless the process was started with another).
    package static func reset() { _ = clinux_set_timer_slack(0) }

    /// This thread's slack now, in nanoseconds.
    package static var nanoseconds: Int { clinux_timer_slack() }
}

/// The slack of one thread's waits, for a loop that waits the same long interval again and again (the
/// reading loop's quiet second): a long wait may end up to an eighth of it (at most 250 ms) late, so
/// that the kernel wakes the thread together with another timer instead of waking an idle CPU for it
/// alone; a short one (a rotation deadline, a partial line's grace) keeps the default. The slack is
/// set only when it changes: two `prctl`s around each quiet wait were a third of its system calls.
/// It stays set through the pass after a wait that timed out (stats and reads, no timers of their
/// own); a wait that something ended early (input, a signal) puts the default back for the work
/// that follows. So every timed wait of the thread must pass through `beforeWait` (or follow
/// `reset`): a short one left with a quiet second's slack could end 125 ms late.
package struct WaitSlack {
    /// What the thread's slack is now, as this set it; 0: the default.
    package private(set) var milliseconds = 0
    private let apply: (Int) -> Void

    /// `apply` sets the calling thread's slack (0: back to the default); tests pass a recorder.
    package init(apply: @escaping (Int) -> Void = WaitSlack.setThreadSlack) { self.apply = apply }

    package static func setThreadSlack(_ milliseconds: Int) {
        if milliseconds == 0 { TimerSlack.reset() } else { TimerSlack.allow(milliseconds: milliseconds) }
    }

    /// Before a wait of `timeoutMs`.
    package mutating func beforeWait(timeoutMs: Int) {
        set(timeoutMs >= 500 ? min(timeoutMs / 8, 250) : 0)
    }

    /// After the wait: `endedEarly` when a descriptor or a wake-up ended it before its timeout.
    package mutating func afterWait(endedEarly: Bool) {
        if endedEarly { set(0) }
    }

    /// Back to the default (before work whose waits must not end late, such as a drain).
    package mutating func reset() { set(0) }

    private mutating func set(_ slack: Int) {
        guard slack != milliseconds else { return }
        apply(slack)
        milliseconds = slack
    }
}
