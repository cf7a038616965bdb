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

/// `WaitSlack` against a recorder of what it would set: the reading loop's sequence of waits.
@Suite("Wait slack")
struct WaitSlackTests {
    final class Recorder: @unchecked Sendable { var set: [Int] = [] }

    @Test("quiet waits set the slack once; input, a short wait and reset put the default back")
    func sequence() {
        let recorder = Recorder()
        var slack = WaitSlack(apply: { recorder.set.append($0) })
        // A quiet minute: the same second, timing out each time.
        for _ in 0..<60 {
            slack.beforeWait(timeoutMs: 1_000)
            slack.afterWait(endedEarly: false)
        }
        #expect(recorder.set == [125])
        #expect(slack.milliseconds == 125)
        // A longer wait (a checkpoint interval) allows more, up to 250 ms.
        slack.beforeWait(timeoutMs: 5_000)
        #expect(recorder.set == [125, 250])
        // Input ends it early: the work that follows keeps the default.
        slack.afterWait(endedEarly: true)
        #expect(recorder.set == [125, 250, 0])
        // A short wait (a rotation deadline) keeps the default without setting it again.
        slack.beforeWait(timeoutMs: 200)
        slack.afterWait(endedEarly: false)
        #expect(recorder.set == [125, 250, 0])
        slack.beforeWait(timeoutMs: 1_000)
        slack.afterWait(endedEarly: false)
        // 499 ms is short: the slack set for the second is taken back before it.
        slack.beforeWait(timeoutMs: 499)
        #expect(recorder.set == [125, 250, 0, 125, 0])
        slack.beforeWait(timeoutMs: 1_000)
        slack.reset()
        slack.reset()
        #expect(recorder.set == [125, 250, 0, 125, 0, 125, 0])
        #expect(slack.milliseconds == 0)
    }

    @Test("the thread's own slack follows, and reset gives back the default")
    func thread() {
        let before = TimerSlack.nanoseconds
        var slack = WaitSlack()
        slack.beforeWait(timeoutMs: 1_000)
        #expect(TimerSlack.nanoseconds == 125_000_000)
        slack.afterWait(endedEarly: true)
        #expect(TimerSlack.nanoseconds == before)
    }
}
