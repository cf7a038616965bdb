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

    package init() {}

    @inlinable public var count: Int { recordEnds.count }
    @inlinable public var isEmpty: Bool { recordEnds.isEmpty }

    package mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        recordEnds.removeAll(keepingCapacity: true)
        origins.removeAll(keepingCapacity: true)
    }

    /// Where record `index` starts in `bytes`.
    package func start(of index: Int) -> Int { index == 0 ? 0 : recordEnds[index - 1] }

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

    /// Record `index`'s bytes (without its `\n`) in `raw`, the batch's `bytes`.
    package func record(_ index: Int, in raw: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
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
