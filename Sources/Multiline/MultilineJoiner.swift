import Configuration
import Records
import Telemetry

/// Joins one source's lines into records (`multiline`): one record is pending at a time, its lines
/// joined with `\n`. It is handed on when a line begins the next record, when the source has been
/// quiet for `timeout_ms` (`flush`, called by the source's owner), or when its file is done. A record
/// that reaches `max_lines` or `max_bytes` is cut: the lines after that, up to the next record, are
/// skipped and counted, and the record goes as truncated. While a record is pending, its input bytes
/// count as not yet handed on (`pendingBytes`), so the checkpoint stays before its first byte.
package final class MultilineJoiner {
    private var rule: any LineRule
    private let maxLines: Int
    private let maxBytes: Int
    package let timeoutMs: Int64
    private var record: [UInt8] = []
    private var lines = 0
    /// Input bytes of the pending record, each line's newline included.
    private var recordInputBytes = 0
    /// Blank lines after it that join it only if a continuation follows.
    private var held: [[UInt8]] = []
    private var heldInputBytes = 0
    /// It reached a limit: further lines are skipped.
    private var cut = false
    /// One of its lines was longer than `max_line_bytes`.
    private var hasTruncatedLine = false
    private var joinedRecords = 0
    private var truncatedRecords = 0
    private var skippedLines = 0

    package init(rule: any LineRule, maxLines: Int, maxBytes: Int, timeoutMs: Int) {
        self.rule = rule
        self.maxLines = maxLines
        self.maxBytes = maxBytes
        self.timeoutMs = Int64(timeoutMs)
    }

    /// The joiner `config` describes; `maxLineBytes` is `max_bytes`'s default.
    package convenience init(_ config: MultilineConfig, maxLineBytes: Int) throws(PCRERegex.CompileError) {
        let rule: any LineRule
        switch config.rule {
        case .preset(.java): rule = JavaTraceRule()
        case .preset(.python): rule = PythonTraceRule()
        case .preset(.go): rule = GoPanicRule()
        case .start(let pattern): rule = StartPatternRule(pattern: try PCRERegex(pattern))
        case .continues(let pattern): rule = ContinuePatternRule(pattern: try PCRERegex(pattern))
        }
        self.init(rule: rule, maxLines: config.maxLines, maxBytes: config.maxBytes ?? maxLineBytes, timeoutMs: config.timeoutMs)
    }

    /// Input bytes taken but not yet handed on: the checkpoint stays before them.
    package var pendingBytes: Int { recordInputBytes + heldInputBytes }

    package var hasPending: Bool { lines > 0 || !held.isEmpty }

    /// Takes one line (without its newline); `emit` gets each record (or lone blank line) it completes.
    package func take(_ line: Line, emit: (Line) -> Void) {
        let (content, inputBytes, lineCut): (UnsafeRawBufferPointer, Int, Bool)
        switch line {
        case .complete(let bytes): (content, inputBytes, lineCut) = (bytes, bytes.count, false)
        case .truncated(let head, let originalBytes): (content, inputBytes, lineCut) = (head, originalBytes, true)
        }
        let role = rule.role(of: content, pending: lines > 0)
        switch role {
        case .tentative where lines > 0:
            held.append(Array(content))
            heldInputBytes += inputBytes + 1
            return
        case .continuation where lines > 0:
            for blank in held { blank.withUnsafeBytes { append($0, inputBytes: $0.count, lineCut: false) } }
            held.removeAll()
            heldInputBytes = 0
            append(content, inputBytes: inputBytes, lineCut: lineCut)
        default:
            flush(emit: emit)
            append(content, inputBytes: inputBytes, lineCut: lineCut)
        }
    }

    /// Hands on the pending record and the blank lines held after it (each a record of its own).
    package func flush(emit: (Line) -> Void) {
        if lines > 0 {
            if lines > 1 { joinedRecords += 1 }
            record.withUnsafeBytes { bytes in
                if cut || hasTruncatedLine {
                    emit(.truncated(head: bytes, originalBytes: recordInputBytes - 1))
                } else {
                    emit(.complete(bytes))
                }
            }
            if cut { truncatedRecords += 1 }
            record.removeAll(keepingCapacity: record.capacity <= 1 << 20)
            (lines, recordInputBytes, cut, hasTruncatedLine) = (0, 0, false, false)
        }
        for blank in held { blank.withUnsafeBytes { emit(.complete($0)) } }
        held.removeAll()
        heldInputBytes = 0
    }

    /// Forgets what is pending (its file was truncated under it, and the copy is read elsewhere).
    package func reset() {
        record.removeAll()
        held.removeAll()
        (lines, recordInputBytes, heldInputBytes, cut, hasTruncatedLine) = (0, 0, 0, false, false)
    }

    private func append(_ content: UnsafeRawBufferPointer, inputBytes: Int, lineCut: Bool) {
        recordInputBytes += inputBytes + 1
        if cut {
            skippedLines += 1
            return
        }
        if lines > 0 && (lines + 1 > maxLines || record.count + 1 + content.count > maxBytes) {
            cut = true
            skippedLines += 1
            return
        }
        if lines > 0 { record.append(0x0A) }
        if content.count > maxBytes {
            record.append(contentsOf: content[..<UTF8Validation.boundary(content, limit: maxBytes)])
            cut = true
        } else {
            record.append(contentsOf: content)
        }
        if lineCut { hasTruncatedLine = true }
        lines += 1
    }

    /// Adds what it counted since the last call to `counters`.
    package func publish(to counters: Counters) {
        guard joinedRecords + truncatedRecords + skippedLines > 0 else { return }
        counters.add(counters.multilineRecords, joinedRecords)
        counters.add(counters.multilineTruncated, truncatedRecords)
        counters.add(counters.multilineLinesSkipped, skippedLines)
        (joinedRecords, truncatedRecords, skippedLines) = (0, 0, 0)
    }

    /// Takes every line `splitter` completed with the `bytes` just read, handing each record to
    /// `consumer`, and counts them.
    package func takeLines(from splitter: LineSplitter, into consumer: any LineConsumer, read bytes: Int, counters: Counters) {
        var count = 0
        splitter.forEachLine { line in
            count += 1
            take(line) { consumer.consume($0, partial: false) }
        }
        counters.add(counters.bytesRead, bytes)
        counters.add(counters.linesRead, count)
        publish(to: counters)
    }
}
