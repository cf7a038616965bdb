/// Encoded records, each a JSON object ending in `\n`, back to back in one buffer so a sink can write
/// the whole batch with one call.
public struct RecordBatch {
    public var bytes: [UInt8] = []
    /// The end offset (just after its `\n`) of each record in `bytes`.
    public var recordEnds: [Int] = []
    /// Each record's origin, when a sink names records by it (`Pipeline.recordsOrigins`); else empty.
    public var origins: [RecordOrigin] = []

    public init() {}

    public var count: Int { recordEnds.count }
    public var isEmpty: Bool { recordEnds.isEmpty }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        recordEnds.removeAll(keepingCapacity: true)
        origins.removeAll(keepingCapacity: true)
    }

    /// Where record `index` starts in `bytes`.
    public func start(of index: Int) -> Int { index == 0 ? 0 : recordEnds[index - 1] }

    /// The number of whole records that end at or before `byteOffset`.
    public func recordsEnding(atOrBefore byteOffset: Int) -> Int {
        var low = 0
        var high = recordEnds.count
        while low < high {
            let middle = (low + high) / 2
            if recordEnds[middle] <= byteOffset { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Record `index`'s bytes (without its `\n`) in `raw`, the batch's `bytes`.
    func record(_ index: Int, in raw: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: raw[start(of: index)..<(recordEnds[index] - 1)])
    }

    /// Calls `body` with each record's bytes (without its `\n`) from record index `first` on.
    public func forEachRecord(from first: Int = 0, _ body: (Int, UnsafeRawBufferPointer) throws -> Void) rethrows {
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
