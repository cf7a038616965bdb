/// Encoded records, each a JSON object ending in `\n`, back to back in one buffer so a sink can write
/// the whole batch with one call.
/// Its accessors are inlined into the other modules' loops: a call to one on a batch held by a class
/// would copy the batch, three retains and three releases a line.
public struct RecordBatch {
    public var bytes: [UInt8] = []
    /// The end offset (just after its `\n`) of each record in `bytes`.
    public var recordEnds: [Int] = []
    /// Each record's origin, when a sink names records by it (`Pipeline.recordsOrigins`); else empty.
    package var origins: [RecordOrigin] = []
    /// Each record's top-level members as the enricher's scan found them, when a sink takes records
    /// apart (`Pipeline.recordsMembers`): ranges relative to the record's first byte, so they move with
    /// it from batch to batch unchanged. `memberSpans[i]` is record `i`'s part of `members`; an empty
    /// span means not recorded (a record the enricher did not write from one scan), and the reader
    /// scans that record itself. Both empty when no sink asked.
    @usableFromInline package var members: [PackedMember] = []
    @usableFromInline package var memberSpans: [Range<Int>] = []

    package init() {}

    @inlinable public var count: Int { recordEnds.count }
    @inlinable public var isEmpty: Bool { recordEnds.isEmpty }

    package mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        recordEnds.removeAll(keepingCapacity: true)
        origins.removeAll(keepingCapacity: true)
        members.removeAll(keepingCapacity: true)
        memberSpans.removeAll(keepingCapacity: true)
    }

    /// Gives the records at the end that kept no members their empty spans. The test inlined into the
    /// enricher, which calls it for every record it keeps the members of (nearly always, nothing to pad).
    @inlinable @inline(__always) package mutating func padMemberSpans() {
        if memberSpans.count < count { appendEmptySpans() }
    }

    @usableFromInline package mutating func appendEmptySpans() {
        while memberSpans.count < count { memberSpans.append(0..<0) }
    }

    /// Record `index`'s members as recorded, within `all` (this batch's `members` through
    /// `withUnsafeBufferPointer`); nil when they were not. A pointer, not a slice of the array: a slice
    /// was retained and released around each record of the encoders' loops.
    @inlinable package func members(of index: Int, in all: UnsafeBufferPointer<PackedMember>) -> UnsafeBufferPointer<PackedMember>? {
        guard index < memberSpans.count, !memberSpans[index].isEmpty else { return nil }
        return UnsafeBufferPointer(rebasing: all[memberSpans[index]])
    }

    /// Appends `other`'s records from index `first` on, with their origins where `other` has them for
    /// every record, and so their members when `members` is true (records without them get empty
    /// spans, so a span's index stays its record's).
    package mutating func append(_ other: RecordBatch, from first: Int, members withMembers: Bool) {
        guard first < other.count else { return }
        if withMembers { padMemberSpans() }
        let start = other.start(of: first)
        let base = bytes.count - start
        bytes.append(contentsOf: other.bytes[start...])
        // Copied, then moved in place: through `lazy.map` each element was a call of the closure.
        let endsStart = recordEnds.count
        recordEnds.append(contentsOf: other.recordEnds[first...])
        recordEnds.withUnsafeMutableBufferPointer { ends in
            for index in endsStart..<ends.count { ends[index] &+= base }
        }
        if other.origins.count == other.count { origins.append(contentsOf: other.origins[first...]) }
        if withMembers, other.memberSpans.count == other.count {
            let memberStart = other.firstMember(from: first)
            let shift = members.count - memberStart
            members.append(contentsOf: other.members[memberStart...])
            let spansStart = memberSpans.count
            memberSpans.append(contentsOf: other.memberSpans[first...])
            memberSpans.withUnsafeMutableBufferPointer { spans in
                for index in spansStart..<spans.count where !spans[index].isEmpty {
                    spans[index] = (spans[index].lowerBound &+ shift)..<(spans[index].upperBound &+ shift)
                }
            }
        } else if withMembers {
            padMemberSpans()
        }
    }

    /// Where the members of record `first` and those after it start in `members`: the first non-empty
    /// span's start (spans are in record order), or the end when none of them kept any.
    private func firstMember(from first: Int) -> Int {
        memberSpans[first...].first { !$0.isEmpty }?.lowerBound ?? members.count
    }

    /// Keeps the records before index `first`.
    package mutating func removeRecords(from first: Int) {
        guard first < count else { return }
        bytes.removeSubrange(start(of: first)...)
        recordEnds.removeSubrange(first...)
        if origins.count > first { origins.removeSubrange(first...) }
        if memberSpans.count > first {
            members.removeSubrange(firstMember(from: first)...)
            memberSpans.removeSubrange(first...)
        }
    }

    /// Where record `index` starts in `bytes`.
    @inlinable package func start(of index: Int) -> Int { index == 0 ? 0 : recordEnds[index - 1] }

    /// The number of whole records that end at or before `byteOffset`.
    package func recordsEnding(atOrBefore byteOffset: Int) -> Int {
        var low = 0
        var high = recordEnds.count
        while low < high {
            let middle = (low + high) / 2
            if recordEnds[middle] <= byteOffset { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Record `index`'s bytes (without its `\n`) in `raw`, the batch's `bytes`. Inlined into the
    /// formats' loops over records.
    @inlinable package func record(_ index: Int, in raw: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: raw[start(of: index)..<(recordEnds[index] - 1)])
    }

    /// Calls `body` with each record's bytes (without its `\n`) from record index `first` on.
    package func forEachRecord(from first: Int = 0, _ body: (Int, UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { raw in
            var start = first == 0 ? 0 : recordEnds[first - 1]
            for index in first..<recordEnds.count {
                let end = recordEnds[index]
                try body(index, UnsafeRawBufferPointer(rebasing: raw[start..<(end - 1)]))
                start = end
            }
        }
    }
}

extension RecordBatch {
    /// Input bytes gathered (across files, or from the child's pipes) before a batch is delivered.
    package static let inputBytes = 256 << 10
}
