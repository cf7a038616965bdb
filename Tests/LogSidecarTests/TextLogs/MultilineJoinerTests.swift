import Synchronization
import Testing

@testable import Configuration
@testable import Multiline
@testable import Records
@testable import Telemetry

/// The joiner's rules in memory: where records begin, the limits, blank lines, what the checkpoint
/// may pass, and that every line lands in exactly one record.
@Suite("Multiline joiner, in memory")
struct MultilineJoinerTests {
    enum Shipped: Equatable {
        case whole(String)
        case cut(String, inputBytes: Int)
    }

    final class Feed {
        let joiner: MultilineJoiner
        var shipped: [Shipped] = []
        init(_ joiner: MultilineJoiner) { self.joiner = joiner }

        func lines(_ lines: [String]) {
            for line in lines {
                Array(line.utf8).withUnsafeBytes { bytes in joiner.take(.complete(bytes)) { record($0) } }
            }
        }

        func flush() { joiner.flush { record($0) } }

        private func record(_ line: Line) {
            switch line {
            case .complete(let bytes): shipped.append(.whole(String(decoding: bytes, as: UTF8.self)))
            case .truncated(let head, let original): shipped.append(.cut(String(decoding: head, as: UTF8.self), inputBytes: original + 1))
            }
        }
    }

    func feed(_ rule: MultilineConfig.Rule, maxLines: Int = 1000, maxBytes: Int? = nil) throws -> Feed {
        var config = MultilineConfig(rule: rule)
        config.maxLines = maxLines
        config.maxBytes = maxBytes
        return Feed(try MultilineJoiner(config, maxLineBytes: 1 << 20))
    }

    static let javaTrace = [
        "2026-12-02 10:00:00.000 SEVERE app request failed", "java.lang.IllegalStateException: boom", "\tat a.B.c(B.java:1)",
        "\tat a.B.d(B.java:2)", "Caused by: java.io.IOException: disk", "\tat a.B.e(B.java:3)", "\t... 2 more",
    ]

    @Test("a record is pending until a line begins the next; the checkpoint stays before its first byte")
    func pendingBytes() throws {
        let feed = try feed(.preset(.java))
        feed.lines(Self.javaTrace)
        #expect(feed.shipped.isEmpty)
        #expect(feed.joiner.pendingBytes == Self.javaTrace.reduce(0) { $0 + $1.utf8.count + 1 })
        feed.lines(["2026-12-02 10:00:01.000 INFO app next"])
        #expect(feed.shipped == [.whole(Self.javaTrace.joined(separator: "\n"))])
        #expect(feed.joiner.pendingBytes == "2026-12-02 10:00:01.000 INFO app next".utf8.count + 1)
        feed.flush()
        #expect(feed.joiner.pendingBytes == 0 && !feed.joiner.hasPending)
        #expect(feed.shipped.count == 2)
    }

    @Test("max_lines cuts the record, flags it with every input byte it stood for, and skips the rest up to the next record")
    func maxLines() throws {
        let feed = try feed(.preset(.java), maxLines: 3)
        let counters = Counters(sinkNames: [])
        feed.lines(Self.javaTrace + ["2026-12-02 10:00:01.000 INFO app next"])
        feed.joiner.publish(to: counters)
        let inputBytes = Self.javaTrace.reduce(0) { $0 + $1.utf8.count + 1 }
        #expect(feed.shipped == [.cut(Self.javaTrace.prefix(3).joined(separator: "\n"), inputBytes: inputBytes)])
        #expect(counters.multilineTruncated.load(ordering: .relaxed) == 1)
        #expect(counters.multilineLinesSkipped.load(ordering: .relaxed) == 4)
        #expect(counters.multilineRecords.load(ordering: .relaxed) == 1)
    }

    @Test("max_bytes cuts at a UTF-8 boundary")
    func maxBytes() throws {
        let feed = try feed(.continues("^\\s"), maxBytes: 20)
        feed.lines(["héllo wörld, this is long", " more"])
        feed.flush()
        guard case .cut(let head, let bytes) = feed.shipped.first else {
            Issue.record("not cut: \(feed.shipped)")
            return
        }
        #expect(head.utf8.count <= 20 && "héllo wörld, this is long".hasPrefix(head))
        #expect(bytes == "héllo wörld, this is long\n more\n".utf8.count)
    }

    @Test("blank lines join a record only when a continuation follows them; otherwise each is a line of its own")
    func tentativeBlanks() throws {
        let feed = try feed(.preset(.go))
        feed.lines(["panic: boom", "", "goroutine 1 [running]:", "main.main()", "\t/x.go:3 +0x1", "", "", "2026/12/02 next"])
        feed.flush()
        #expect(
            feed.shipped == [
                .whole("panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/x.go:3 +0x1"), .whole(""), .whole(""), .whole("2026/12/02 next"),
            ])
    }

    @Test("start: lines before the first match are records of their own; continue: a match with nothing pending begins one")
    func patterns() throws {
        let start = try feed(.start("^\\d{4}-"))
        start.lines(["orphan 1", "orphan 2", "2026-12-02 a", "  detail", "plain", "2026-12-02 b"])
        start.flush()
        #expect(start.shipped == [.whole("orphan 1"), .whole("orphan 2"), .whole("2026-12-02 a\n  detail\nplain"), .whole("2026-12-02 b")])
        let continues = try feed(.continues("^\\s"))
        continues.lines(["  leading", "a", " b", "c"])
        continues.flush()
        #expect(continues.shipped == [.whole("  leading"), .whole("a\n b"), .whole("c")])
    }

    @Test("every line is in exactly one record, in order, whatever the lines and the limits (5,000 random sequences)")
    func everyLineOnce() throws {
        var generator = SystemRandomNumberGenerator()
        let pieces = [
            "2026 log line", "java.lang.RuntimeException: x", "\tat a.b(C.java:1)", "Caused by: a.B: y", "", "  indented",
            "Traceback (most recent call last):", "ValueError: v", "panic: p", "goroutine 1 [running]:", "main.f()", "created by main.main",
            "During handling of the above exception, another exception occurred:",
        ]
        for round in 0..<5_000 {
            let preset = MultilinePreset.allCases[round % 3]
            let maxLines = Int.random(in: 2...6, using: &generator)
            let feed = try feed(.preset(preset), maxLines: maxLines)
            let counters = Counters(sinkNames: [])
            let lines = (0..<Int.random(in: 1...30, using: &generator)).map { index in
                pieces.randomElement(using: &generator)! + (Bool.random(using: &generator) ? "" : " \(index)")
            }
            feed.lines(lines)
            feed.flush()
            feed.joiner.publish(to: counters)
            var kept: [String] = []
            var inputBytes = 0
            for record in feed.shipped {
                switch record {
                case .whole(let text):
                    kept += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                    inputBytes += text.utf8.count + 1
                case .cut(let text, let bytes):
                    kept += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                    inputBytes += bytes
                }
            }
            let skipped = counters.multilineLinesSkipped.load(ordering: .relaxed)
            #expect(inputBytes == lines.reduce(0) { $0 + $1.utf8.count + 1 }, "round \(round): input bytes")
            #expect(kept.count + skipped == lines.count, "round \(round): \(lines)")
            #expect(Self.isSubsequence(kept, of: lines), "round \(round): order")
            if kept.count + skipped != lines.count { break }
        }
    }

    /// `kept` is `lines` with some left out, in their order.
    static func isSubsequence(_ kept: [String], of lines: [String]) -> Bool {
        var index = lines.startIndex
        for line in kept {
            guard let found = lines[index...].firstIndex(of: line) else { return false }
            index = found + 1
        }
        return true
    }
}
