import Glibc

/// Milliseconds on the monotonic clock: rotation waits and backoff must not jump with the wall clock.
package enum MonotonicClock {
    package static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

/// Nanoseconds on the wall clock, the clock file times are stamped with.
package enum WallClock {
    package static func nanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}

/// Where a stage reads the time. The daemon passes `SystemClock`; unit tests pass a clock they move
/// by hand (Tests/TestSupport/ManualClock.swift), so poll intervals, rotation waits and backoffs are
/// stepped through without sleeping.
package protocol TimeSource: AnyObject, Sendable {
    /// Milliseconds on a monotonic clock.
    func monotonicMs() -> Int64
    /// Nanoseconds on the wall clock.
    func wallNs() -> Int64
}

/// The kernel's clocks.
package final class SystemClock: TimeSource {
    package static let shared = SystemClock()
    package init() {}
    package func monotonicMs() -> Int64 { MonotonicClock.milliseconds() }
    package func wallNs() -> Int64 { WallClock.nanoseconds() }
}
