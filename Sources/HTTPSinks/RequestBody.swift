import Configuration
import Records

/// One request's bytes, ready to post: the records straight from their batch, or the format's
/// encoding of them, gzipped unless `compression` is `none`. A body outlives the thread that wrote
/// it, so the sender can post one while another is written beside it.
final class RequestBody {
    fileprivate let encoded = GrowableBytes()
    fileprivate let compressed = GrowableBytes()
    fileprivate var recordBytes: Range<Int>?
    fileprivate var gzipped = false
    /// The uncompressed size (`log_sidecar_sink_batch_bytes`).
    fileprivate(set) var plainCount = 0
    /// Records whose own time did not parse when the body was written.
    fileprivate(set) var timeParseErrors = 0

    /// Calls `post` with the bytes to send (`batch` must be the batch the body was written from) and
    /// whether they are gzipped.
    func withWire<Result>(_ batch: RecordBatch, _ post: (UnsafeRawBufferPointer, Bool) -> Result) -> Result {
        if gzipped { return post(compressed.bytes, true) }
        guard let recordBytes else { return post(encoded.bytes, false) }
        return batch.bytes.withUnsafeBytes { raw in post(UnsafeRawBufferPointer(rebasing: raw[recordBytes]), false) }
    }
}

/// Writes request bodies for one thread: a format keeps scratch state and zlib a stream, so each
/// thread that writes bodies has a writer of its own.
final class RequestWriter {
    private let format: any HTTPFormat
    private let gzip: Gzip?

    init(format: any HTTPFormat, compression: HTTPCompression) {
        self.format = format
        gzip = compression == .gzip ? Gzip() : nil
    }

    /// True when a body costs work beyond pointing at the batch (an encoding, gzip), which a second
    /// thread can share.
    var doesWork: Bool { gzip != nil || !format.bodyIsRecords }

    /// Fills `body` with the request for `records` (indices into `batch`, ascending).
    func write(_ batch: RecordBatch, _ records: [Int], into body: RequestBody) {
        body.encoded.removeAll()
        body.gzipped = false
        body.recordBytes = nil
        body.timeParseErrors = 0
        guard let first = records.first, let last = records.last else { return }
        if format.bodyIsRecords && last - first + 1 == records.count {
            // In one piece (always, unless items were sent again): straight from the batch.
            let range = batch.start(of: first)..<batch.recordEnds[last]
            body.recordBytes = range
            body.plainCount = range.count
            if let gzip {
                body.gzipped = batch.bytes.withUnsafeBytes { raw in gzip.compress(UnsafeRawBufferPointer(rebasing: raw[range]), into: body.compressed)
                }
            }
            return
        }
        format.encode(batch, records, into: body.encoded)
        body.timeParseErrors = format.takeTimeParseErrors()
        body.plainCount = body.encoded.count
        if let gzip { body.gzipped = gzip.compress(body.encoded.bytes, into: body.compressed) }
    }
}
