import Synchronization

/// Every figure the daemon reports, as atomics: the reading loop adds once per batch, the HTTP side
/// only loads, so neither ever waits for the other.
public final class Counters: Sendable {
    public let linesRead = Atomic<Int>(0)
    public let bytesRead = Atomic<Int>(0)
    public let emptyLines = Atomic<Int>(0)
    public let parseErrors = Atomic<Int>(0)
    public let linesTruncated = Atomic<Int>(0)
    public let partialLines = Atomic<Int>(0)
    public let rotations = Atomic<Int>(0)
    public let truncations = Atomic<Int>(0)
    public let lagBytes = Atomic<Int>(0)
    public let checkpointOffset = Atomic<Int>(0)
    /// Checkpoints found corrupt at start and moved aside.
    public let checkpointCorrupt = Atomic<Int>(0)
    public let sinks: [SinkCounters]
    /// One per configured filter, in order.
    public let filters: [FilterCounters]
    /// Files open and read now, files waiting for a descriptor under `input.max_open_files`, files
    /// opened since start, and how many times a file had to wait.
    public let filesFollowed = Atomic<Int>(0)
    public let filesWaiting = Atomic<Int>(0)
    public let filesOpened = Atomic<Int>(0)
    public let filesWaited = Atomic<Int>(0)
    /// The first `reportedFiles` known files, refreshed by the reading loop at most twice a second.
    public let files = Mutex<[FileReport]>([])
    public static let reportedFiles = 100

    /// True while inotify watches the input's directory; false while the stat poll runs alone.
    public let inotifyActive = Atomic<Bool>(false)
    /// True once the input file is open and followed (readiness).
    public let following = Atomic<Bool>(false)
    /// Monotonic ms of the reading loop's last turn, and of the last batch every sink accepted (liveness).
    public let loopHeartbeatMs = Atomic<Int64>(MonotonicClock.milliseconds())
    public let lastProgressMs = Atomic<Int64>(MonotonicClock.milliseconds())
    /// Monotonic ms of the last pass over the input that did not fail (liveness).
    public let lastPassSucceededMs = Atomic<Int64>(MonotonicClock.milliseconds())
    /// Why the last pass over the input failed; empty while passes succeed.
    public let inputError = Mutex<String>("")
    /// Why the last checkpoint write failed; empty once one succeeds.
    public let checkpointError = Mutex<String>("")
    /// Monotonic ms since when a batch has been waiting for the sinks; 0 when none is.
    public let deliveryStartedMs = Atomic<Int64>(0)

    /// Exec mode: the child's pid (0 before the first start), whether it runs, its last exit code as
    /// a shell reports it (-1: none yet), how often it was started and started again.
    public let execMode: Bool
    public let childPid = Atomic<Int>(0)
    public let childRunning = Atomic<Bool>(false)
    public let childLastExitCode = Atomic<Int>(-1)
    public let childStarts = Atomic<Int>(0)
    public let childRestarts = Atomic<Int>(0)

    /// False in exec mode with no file named: `/health` then says `"watch":"none"`, not "poll".
    public let followsFiles: Bool

    public init(
        sinkNames: [String], httpSinks: Set<String> = [], filterNames: [String] = [], execMode: Bool = false, followsFiles: Bool = true
    ) {
        sinks = sinkNames.map { SinkCounters(name: $0, http: httpSinks.contains($0) ? HTTPCounters() : nil) }
        filters = filterNames.map(FilterCounters.init)
        self.execMode = execMode
        self.followsFiles = followsFiles
    }

    public func add(_ counter: borrowing Atomic<Int>, _ amount: Int) {
        if amount != 0 { counter.wrappingAdd(amount, ordering: .relaxed) }
    }
}

public final class SinkCounters: Sendable {
    public let name: String
    public let recordsWritten = Atomic<Int>(0)
    public let errors = Atomic<Int>(0)
    /// Monotonic ms since when the sink has been failing; 0 while it works.
    public let failingSinceMs = Atomic<Int64>(0)
    public let lastError = Mutex<String>("")
    /// An HTTP sink's requests, retries and dead letters; nil for the other sinks.
    public let http: HTTPCounters?

    init(name: String, http: HTTPCounters? = nil) {
        self.name = name
        self.http = http
    }
}

/// What an HTTP sink reports beyond every sink's counters (README.md, "Shipping over HTTP": metrics).
public final class HTTPCounters: Sendable {
    /// Upper bounds in seconds of `log_sidecar_sink_request_seconds`' buckets.
    public static let bucketBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    public struct Histogram: Sendable {
        /// Per bucket (not cumulative), the last one for everything above the largest bound.
        public var counts = [Int](repeating: 0, count: HTTPCounters.bucketBounds.count + 1)
        public var sum = 0.0
        public var count = 0
    }

    /// Responses by status; 0 counts the requests that got none (refused, reset, timed out).
    public let requests = Mutex<[Int: Int]>([:])
    public let retries = Atomic<Int>(0)
    public let deadLettered = Atomic<Int>(0)
    /// The uncompressed size of the last request's body.
    public let lastBatchBytes = Atomic<Int>(0)
    /// Record bytes the sink holds (filling and in flight) that its receiver has not acknowledged:
    /// what the checkpoint waits for, beyond the input lag.
    public let unacknowledgedBytes = Atomic<Int>(0)
    public let requestSeconds = Mutex<Histogram>(Histogram())

    init() {}

    func recordRequest(status: Int, seconds: Double) {
        requests.withLock { $0[status, default: 0] += 1 }
        let bucket = HTTPCounters.bucketBounds.firstIndex { seconds <= $0 } ?? HTTPCounters.bucketBounds.count
        requestSeconds.withLock { histogram in
            histogram.counts[bucket] += 1
            histogram.sum += seconds
            histogram.count += 1
        }
    }
}

public final class FilterCounters: Sendable {
    public let name: String
    /// Records the filter removed from the stream (drop, keep, sample, throttle).
    public let recordsDropped = Atomic<Int>(0)

    init(name: String) { self.name = name }
}

/// One known file as `/health` lists it.
public struct FileReport: Sendable {
    public let path: String
    /// The path it was found under (its `file` field), before any rotation.
    public let origin: String
    public let offset: Int64
    public let lag: Int64
    public let open: Bool
}
