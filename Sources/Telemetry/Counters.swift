import Synchronization
import SystemSupport

/// Every figure the daemon reports, as atomics: the reading loop adds once per batch, the HTTP side
/// only loads, so neither ever waits for the other.
package final class Counters: Sendable {
    package let linesRead = Atomic<Int>(0)
    package let bytesRead = Atomic<Int>(0)
    package let emptyLines = Atomic<Int>(0)
    package let parseErrors = Atomic<Int>(0)
    package let linesTruncated = Atomic<Int>(0)
    package let partialLines = Atomic<Int>(0)
    /// Records of more than one line (`multiline`), those cut at `max_lines` or `max_bytes`, and the
    /// lines skipped after a cut.
    package let multilineRecords = Atomic<Int>(0)
    package let multilineTruncated = Atomic<Int>(0)
    package let multilineLinesSkipped = Atomic<Int>(0)
    package let rotations = Atomic<Int>(0)
    package let truncations = Atomic<Int>(0)
    package let lagBytes = Atomic<Int>(0)
    package let checkpointOffset = Atomic<Int>(0)
    /// Checkpoints found corrupt at start and moved aside.
    package let checkpointCorrupt = Atomic<Int>(0)
    package let sinks: [SinkCounters]
    /// One per configured filter, in order.
    package let filters: [FilterCounters]
    /// Files open and read now, files waiting for a descriptor under `input.max_open_files`, files
    /// opened since start, and how many times a file had to wait.
    package let filesFollowed = Atomic<Int>(0)
    package let filesWaiting = Atomic<Int>(0)
    package let filesOpened = Atomic<Int>(0)
    package let filesWaited = Atomic<Int>(0)
    /// The first `reportedFiles` known files, refreshed by the reading loop at most twice a second.
    package let files = Mutex<[FileReport]>([])
    package static let reportedFiles = 100

    /// True while inotify watches the input's directory; false while the stat poll runs alone.
    package let inotifyActive = Atomic<Bool>(false)
    /// True once the input file is open and followed (readiness).
    package let following = Atomic<Bool>(false)
    /// Monotonic ms of the reading loop's last turn, and of the last batch every sink accepted (liveness).
    package let loopHeartbeatMs = Atomic<Int64>(MonotonicClock.milliseconds())
    package let lastProgressMs = Atomic<Int64>(MonotonicClock.milliseconds())
    /// Monotonic ms of the last pass over the input that did not fail (liveness).
    package let lastPassSucceededMs = Atomic<Int64>(MonotonicClock.milliseconds())
    /// Why the last pass over the input failed; empty while passes succeed.
    package let inputError = Mutex<String>("")
    /// Why the last checkpoint write failed; empty once one succeeds.
    package let checkpointError = Mutex<String>("")
    /// Monotonic ms since when a batch has been waiting for the sinks; 0 when none is.
    package let deliveryStartedMs = Atomic<Int64>(0)

    /// Exec mode: the child's pid (0 before the first start), whether it runs, its last exit code as
    /// a shell reports it (-1: none yet), how often it was started and started again.
    package let execMode: Bool
    package let childPid = Atomic<Int>(0)
    package let childRunning = Atomic<Bool>(false)
    package let childLastExitCode = Atomic<Int>(-1)
    package let childStarts = Atomic<Int>(0)
    package let childRestarts = Atomic<Int>(0)

    /// False in exec mode with no file named: `/health` then says `"watch":"none"`, not "poll".
    package let followsFiles: Bool

    /// The journald input: whether one is configured, whether its reader has the journal open, what
    /// it reads, the cursor the checkpoint holds and that entry's realtime (µs); entries read,
    /// entries skipped as unreadable, stored cursors found vacuumed, and reader restarts.
    package let readsJournal: Bool
    package let journalOpen = Atomic<Bool>(false)
    package let journalSource = Mutex<String>("")
    package let journalCursor = Mutex<String>("")
    package let journalCheckpointRealtimeUsec = Atomic<Int>(0)
    package let journalEntriesRead = Atomic<Int>(0)
    package let journalEntriesCorrupt = Atomic<Int>(0)
    package let journalCursorLost = Atomic<Int>(0)
    package let journalReaderRestarts = Atomic<Int>(0)

    package init(
        sinkNames: [String], httpSinks: Set<String> = [], filterNames: [String] = [], execMode: Bool = false, followsFiles: Bool = true,
        readsJournal: Bool = false
    ) {
        self.readsJournal = readsJournal
        sinks = sinkNames.map { SinkCounters(name: $0, http: httpSinks.contains($0) ? HTTPCounters() : nil) }
        filters = filterNames.map(FilterCounters.init)
        self.execMode = execMode
        self.followsFiles = followsFiles
    }

    package func add(_ counter: borrowing Atomic<Int>, _ amount: Int) {
        if amount != 0 { counter.wrappingAdd(amount, ordering: .relaxed) }
    }
}

package final class SinkCounters: Sendable {
    package let name: String
    package let recordsWritten = Atomic<Int>(0)
    package let errors = Atomic<Int>(0)
    /// Monotonic ms since when the sink has been failing; 0 while it works.
    package let failingSinceMs = Atomic<Int64>(0)
    package let lastError = Mutex<String>("")
    /// An HTTP sink's requests, retries and dead letters; nil for the other sinks.
    package let http: HTTPCounters?

    package init(name: String, http: HTTPCounters? = nil) {
        self.name = name
        self.http = http
    }
}

/// What an HTTP sink reports beyond every sink's counters (docs/sinks.md, "Shipping over HTTP").
package final class HTTPCounters: Sendable {
    /// Upper bounds in seconds of `log_sidecar_sink_request_seconds`' buckets.
    package static let bucketBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    package struct Histogram: Sendable {
        /// Per bucket (not cumulative), the last one for everything above the largest bound.
        package var counts = [Int](repeating: 0, count: HTTPCounters.bucketBounds.count + 1)
        package var sum = 0.0
        package var count = 0
    }

    /// Responses by status; 0 counts the requests that got none (refused, reset, timed out).
    package let requests = Mutex<[Int: Int]>([:])
    package let retries = Atomic<Int>(0)
    package let deadLettered = Atomic<Int>(0)
    /// The uncompressed size of the last request's body.
    package let lastBatchBytes = Atomic<Int>(0)
    /// Record bytes the sink holds (filling and in flight) that its receiver has not acknowledged:
    /// what the checkpoint waits for, beyond the input lag.
    package let unacknowledgedBytes = Atomic<Int>(0)
    package let requestSeconds = Mutex<Histogram>(Histogram())
    /// Records whose own time (`time_key`) did not parse with `time_format`: sent with the processing time.
    package let timeParseErrors = Atomic<Int>(0)

    package init() {}

    package func recordRequest(status: Int, seconds: Double) {
        requests.withLock { $0[status, default: 0] += 1 }
        let bucket = HTTPCounters.bucketBounds.firstIndex { seconds <= $0 } ?? HTTPCounters.bucketBounds.count
        requestSeconds.withLock { histogram in
            histogram.counts[bucket] += 1
            histogram.sum += seconds
            histogram.count += 1
        }
    }
}

package final class FilterCounters: Sendable {
    package let name: String
    /// Records the filter removed from the stream (drop, keep, sample, throttle).
    package let recordsDropped = Atomic<Int>(0)

    package init(name: String) { self.name = name }
}

/// One known file as `/health` lists it.
package struct FileReport: Sendable {
    package let path: String
    /// The path it was found under (its `file` field), before any rotation.
    package let origin: String
    package let offset: Int64
    package let lag: Int64
    package let open: Bool

    package init(path: String, origin: String, offset: Int64, lag: Int64, open: Bool) {
        (self.path, self.origin, self.offset, self.lag, self.open) = (path, origin, offset, lag, open)
    }
}
