import Synchronization
import SystemSupport

/// A clock that stands still until a test moves it: intervals and waits are stepped through, not slept.
package final class ManualClock: TimeSource {
    private let nowMs: Atomic<Int64>
    private let wallOffsetNs: Int64

    /// Starts at `ms` on the monotonic clock; the wall clock is the real one's at creation, moved alike.
    package init(ms: Int64 = 1_000_000) {
        nowMs = Atomic(ms)
        wallOffsetNs = WallClock.nanoseconds() - ms * 1_000_000
    }

    package func monotonicMs() -> Int64 { nowMs.load(ordering: .relaxed) }
    package func wallNs() -> Int64 { wallOffsetNs + monotonicMs() * 1_000_000 }

    package func advance(ms: Int64) { nowMs.add(ms, ordering: .relaxed) }
}
