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
