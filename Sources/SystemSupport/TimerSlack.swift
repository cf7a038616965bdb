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
