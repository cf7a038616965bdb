import Testing

@testable import SystemSupport

/// `TimerSlack` changes the slack of the calling thread only, and `reset` gives back the one it had:
/// the reading loop allows slack around its long waits and must not leave it on its short ones.
@Suite("Timer slack")
struct TimerSlackTests {
    @Test("allow sets this thread's slack; reset restores the default")
    func allowAndReset() {
        let before = TimerSlack.nanoseconds
        #expect(before > 0)
        TimerSlack.allow(milliseconds: 125)
        #expect(TimerSlack.nanoseconds == 125_000_000)
        TimerSlack.reset()
        #expect(TimerSlack.nanoseconds == before)
    }

    @Test("a negative allowance is no slack beyond the default")
    func negative() {
        let before = TimerSlack.nanoseconds
        TimerSlack.allow(milliseconds: -5)
        #expect(TimerSlack.nanoseconds == before)
        TimerSlack.reset()
    }
}
