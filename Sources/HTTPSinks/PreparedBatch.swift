import Records

/// A batch taken from an HTTP sink's filling, on its way to the receiver: the requests it goes as,
/// their bodies, and how far writing and posting got. The sink's monitor guards the counters; a
/// body belongs to the thread that claimed it until it is marked written, then to the sender.
final class PreparedBatch {
    private(set) var batch = RecordBatch()
    /// The batch bytes the fanout wrote for it (`HTTPSink.unacknowledgedBytes`).
    private(set) var streamBytes = 0
    /// Ranges of record indices, one per request, in order.
    private(set) var requests: [Range<Int>] = []
    /// `bodies[i]` holds request `i` once `written[i]`.
    private(set) var bodies: [RequestBody] = []
    private var written: [Bool] = []
    /// Requests handed to a writing thread, and requests acknowledged (or dead-lettered).
    private var claimed = 0
    private(set) var posted = 0

    /// Takes `filling`'s records up to `maxBytes` (one record at least), leaving the rest in it, and
    /// plans the requests; returns the bytes left. A batch is due once it holds `maxBytes`, so it is
    /// always a little more: taken whole, it went as two requests of half the size, and twice the
    /// inserts for a receiver whose cost is per request (ClickHouse: 1,025 against syslog-ng's 661 for
    /// the same rows).
    func take(_ filling: inout RecordBatch, streamBytes: Int, maxBytes: Int, split: Bool) -> Int {
        swap(&batch, &filling)
        filling.removeAll()
        let keep = max(1, batch.recordsEnding(atOrBefore: maxBytes))
        if keep < batch.count {
            // Members travel only where the sink kept them (`HTTPSink.readsMembers`).
            filling.append(batch, from: keep, members: !batch.memberSpans.isEmpty)
            batch.removeRecords(from: keep)
        }
        self.streamBytes = streamBytes - filling.bytes.count
        requests = Self.requests(batch, maxBytes: maxBytes, split: split)
        while bodies.count < requests.count { bodies.append(RequestBody()) }
        written = Array(repeating: false, count: requests.count)
        claimed = 0
        posted = 0
        return filling.bytes.count
    }

    var hasUnclaimed: Bool { claimed < requests.count }

    /// The next request to write.
    func claim() -> Int {
        defer { claimed += 1 }
        return claimed
    }

    func markWritten(_ index: Int) { written[index] = true }

    /// The next request to post, once it is written.
    var nextToPost: Int? { posted < requests.count && written[posted] ? posted : nil }

    /// True when the last request is acknowledged.
    func markPosted() -> Bool {
        posted += 1
        return posted == requests.count
    }

    /// A batch's requests as ranges of record indices, as even as records allow and each at most
    /// `maxBytes` (a longer record alone). With `split`, a batch of at least 64 KiB goes as two
    /// requests or more, so two threads write their bodies at once (below that, the second thread
    /// saves less than the second request costs).
    static func requests(_ batch: RecordBatch, maxBytes: Int, split: Bool) -> [Range<Int>] {
        let total = batch.bytes.count
        guard batch.count > 0, maxBytes > 0 else { return [] }
        let parts = min(max((total + maxBytes - 1) / maxBytes, split && total >= 64 << 10 ? 2 : 1), batch.count)
        var requests: [Range<Int>] = []
        var first = 0
        for part in 1...parts {
            let share = total / parts * part + (part == parts ? total % parts : 0)
            let last = part == parts ? batch.count : max(batch.recordsEnding(atOrBefore: min(share, batch.start(of: first) + maxBytes)), first + 1)
            // The last part takes what the others left; cut at `maxBytes` if that is more.
            while first < last {
                let end = min(max(batch.recordsEnding(atOrBefore: batch.start(of: first) + maxBytes), first + 1), last)
                requests.append(first..<end)
                first = end
            }
            if first == batch.count { break }
        }
        return requests
    }
}
