import Glibc

/// Milliseconds on the monotonic clock: rotation waits and backoff must not jump with the wall clock.
public enum MonotonicClock {
    public static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
