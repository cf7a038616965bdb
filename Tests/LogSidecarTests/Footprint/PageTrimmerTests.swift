import Foundation
import Testing

@testable import SystemSupport

/// When the reading loop gives its cold pages back: a scripted resident-page count and clock, so each
/// rule of `PageTrimmer` is seen alone. That the pages really go is measured by Benchmarks/ (idle RSS).
@Suite("Page trimmer")
struct PageTrimmerTests {
    final class Rig: @unchecked Sendable {
        var resident = 2000
        var releases: [Int64] = []
        var now: Int64 = 0
        var input = 0
        /// What a release leaves resident; the loop's own pages come back within a second.
        var afterRelease = 300
        var workingSet = 500
        lazy var trimmer = PageTrimmer(
            nowMs: 0, inputSoFar: 0, residentFilePages: { self.resident },
            release: {
                self.releases.append(self.now)
                self.resident = self.afterRelease
            })

        /// Passes of the loop, one a second, up to `until` ms.
        func run(until: Int64, inputPerPass: Int = 0) {
            while now < until {
                now += 1000
                input += inputPerPass
                if resident < workingSet { resident = workingSet }
                trimmer.look(nowMs: now, inputSoFar: input)
            }
        }
    }

    @Test("the first quiet look releases; a quiet daemon whose loop takes its pages back is never trimmed again")
    func quietLoop() {
        let rig = Rig()
        rig.run(until: 1_200_000)
        #expect(rig.releases == [10_000])
        #expect(rig.resident == 500)
    }

    @Test("a scrape's pages while the input is quiet: released at the next look once 1 MiB above the working set")
    func scrape() {
        let rig = Rig()
        rig.run(until: 15_000)
        rig.resident += 200  // under the threshold: kept
        rig.run(until: 40_000)
        #expect(rig.releases == [10_000])
        rig.resident += 100
        rig.run(until: 50_000)
        #expect(rig.releases == [10_000, 50_000])
        rig.run(until: 300_000)
        #expect(rig.releases == [10_000, 50_000])
    }

    @Test("while input flows nothing is released; the first quiet interval after it releases")
    func busy() {
        let rig = Rig()
        rig.run(until: 100_000, inputPerPass: 1000)
        #expect(rig.releases.isEmpty)
        rig.run(until: 120_000)
        #expect(rig.releases == [110_000])
    }

    @Test("the process's file-backed resident pages read from /proc")
    func residentPages() {
        #expect(PageTrimmer.residentFilePages() > 100)
    }

    @Test("statm's third number, and 0 for a line without one")
    func statmField() {
        func field(_ text: String) -> Int { Array(text.utf8).withUnsafeBytes { PageTrimmer.thirdField($0) } }
        #expect(field("59583 849 654 2285 0 6871 0\n") == 654)
        #expect(field("1 2 3") == 3)
        #expect(field("1 2") == 0)
        #expect(field("") == 0)
        #expect(field("12345678901234567890 1 99999999999\n") == 99_999_999_999)
    }
}
