import Synchronization
import Telemetry

/// `GET /metrics` in the Prometheus text format (0.0.4), written as bytes straight from the atomic
/// counters: swift-metrics with swift-prometheus would add a registry, locks and about 2 MiB of RSS for
/// a few dozen numbers, and building the text as strings ran the standard library's string code, whose
/// 1.6 MB of text no link order can gather (scripts/idle-order.py), on every scrape.
enum MetricsExposition {
    static func render(_ status: HealthStatus) -> [UInt8] {
        let c = status.counters
        var text = MetricsText()
        text.counter("log_sidecar_lines_read_total", "Lines read from the input, each ended by a newline.", c.linesRead)
        text.counter("log_sidecar_bytes_read_total", "Bytes read from the input, newlines included.", c.bytesRead)
        text.labelled(
            "log_sidecar_records_written_total", "counter", "Records accepted by each sink.", "sink",
            c.sinks.map { ($0.name, $0.recordsWritten.load(ordering: .relaxed)) })
        text.labelled(
            "log_sidecar_sink_errors_total", "counter", "Failed write or flush attempts per sink.", "sink",
            c.sinks.map { ($0.name, $0.errors.load(ordering: .relaxed)) })
        text.labelled(
            "log_sidecar_records_dropped_total", "counter",
            "Records a filter removed (drop, keep, sample, throttle); their lines still move the checkpoint.", "filter",
            c.filters.map { ($0.name, $0.recordsDropped.load(ordering: .relaxed)) })
        text.counter("log_sidecar_parse_errors_total", "Lines that were not a JSON object, shipped under \"message\".", c.parseErrors)
        text.counter("log_sidecar_lines_truncated_total", "Lines longer than input.max_line_bytes, cut and flagged.", c.linesTruncated)
        text.counter("log_sidecar_empty_lines_total", "Empty lines, skipped.", c.emptyLines)
        text.counter("log_sidecar_partial_lines_total", "Last lines without a newline shipped with \"partial\".", c.partialLines)
        text.counter("log_sidecar_multiline_records_total", "Records joined from more than one line (multiline).", c.multilineRecords)
        text.counter(
            "log_sidecar_multiline_truncated_total", "Multiline records cut at max_lines or max_bytes and flagged \"truncated\".",
            c.multilineTruncated)
        text.counter(
            "log_sidecar_multiline_lines_skipped_total", "Lines skipped after a multiline record was cut, up to the next record.",
            c.multilineLinesSkipped)
        text.counter("log_sidecar_rotations_total", "Input file rotations (rename or delete and a new file).", c.rotations)
        text.counter("log_sidecar_truncations_total", "Input file truncations (copytruncate).", c.truncations)
        text.gauge(
            "log_sidecar_lag_bytes", "Input bytes beyond the checkpoint written last (what a restart would read again), over every file.", c.lagBytes)
        text.gauge(
            "log_sidecar_checkpoint_offset_bytes", "The written checkpoint's offset in the file at input.path (with several files: the newest).",
            c.checkpointOffset)
        text.gauge("log_sidecar_files_followed", "Input files open and followed now.", c.filesFollowed)
        text.gauge("log_sidecar_files_waiting", "Matching files waiting for a descriptor under input.max_open_files.", c.filesWaiting)
        text.counter("log_sidecar_files_opened_total", "Input files opened.", c.filesOpened)
        text.counter("log_sidecar_files_waited_total", "Matching files that had to wait for a descriptor.", c.filesWaited)
        text.counter(
            "log_sidecar_checkpoint_corrupt_total", "Corrupt checkpoints moved aside at start (the start then proceeded as a first start).",
            c.checkpointCorrupt)
        text.single(
            "log_sidecar_inotify_active", "gauge", "1 while inotify watches the input; 0 while the stat poll runs alone.",
            c.inotifyActive.load(ordering: .relaxed) ? 1 : 0)
        text.single(
            "log_sidecar_ready", "gauge", "1 once the first discovery has run (a literal single path: once that file is followed).",
            status.isReady ? 1 : 0)
        text.single("log_sidecar_healthy", "gauge", "1 while /healthz answers 200.", status.problems().isEmpty ? 1 : 0)
        if c.execMode {
            text.single(
                "log_sidecar_child_running", "gauge", "1 while the application (exec mode) runs.", c.childRunning.load(ordering: .relaxed) ? 1 : 0)
            text.counter("log_sidecar_child_starts_total", "Times the application was started.", c.childStarts)
            text.counter(
                "log_sidecar_child_restarts_total", "Times the application was started again after it exited (exec.restart).", c.childRestarts)
            text.gauge(
                "log_sidecar_child_last_exit_code",
                "The application's last exit status as a shell reports it (128+N: signal N); -1 before it first exits.", c.childLastExitCode)
        }
        if c.readsJournal {
            text.counter("log_sidecar_journal_entries_read_total", "Journal entries read and handed to the pipeline.", c.journalEntriesRead)
            text.single(
                "log_sidecar_journal_lag_seconds", "gauge",
                "Seconds between now and the journal entry the checkpoint holds (every sink acknowledged it).", status.journalLagSeconds)
            text.counter(
                "log_sidecar_journal_entries_corrupt_total", "Journal entries that could not be read and were skipped.", c.journalEntriesCorrupt)
            text.counter(
                "log_sidecar_journal_cursor_lost_total",
                "Starts whose stored cursor's entry had been vacuumed: reading jumped to the oldest entry kept.", c.journalCursorLost)
            text.counter(
                "log_sidecar_journal_reader_restarts_total",
                "Times the journal reader process ended (a SIGBUS from a truncated file) and was started again.", c.journalReaderRestarts)
        }
        httpMetrics(c, into: &text)
        return text.bytes
    }

    /// The HTTP sinks' metrics (docs/sinks.md); none without an HTTP sink.
    private static func httpMetrics(_ c: Counters, into text: inout MetricsText) {
        let sinks = c.sinks.compactMap { sink in sink.http.map { (name: sink.name, http: $0) } }
        if sinks.isEmpty { return }
        text.family("log_sidecar_sink_requests_total", "counter", "HTTP requests per sink by response status (code=\"0\": no response).")
        for (name, http) in sinks {
            for (code, count) in http.requests.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
                text.start("log_sidecar_sink_requests_total")
                text.label("sink", name)
                text.label("code", String(code))
                text.end(count)
            }
        }
        text.labelled(
            "log_sidecar_sink_retries_total", "counter", "Requests sent again after a transient or configuration error.", "sink",
            sinks.map { ($0.name, $0.http.retries.load(ordering: .relaxed)) })
        text.labelled(
            "log_sidecar_records_dead_lettered_total", "counter", "Records the receiver refused for their content, written to the dead-letter file.",
            "sink", sinks.map { ($0.name, $0.http.deadLettered.load(ordering: .relaxed)) })
        text.labelled(
            "log_sidecar_sink_batch_bytes", "gauge", "Uncompressed body size of the last request.", "sink",
            sinks.map { ($0.name, $0.http.lastBatchBytes.load(ordering: .relaxed)) })
        text.labelled(
            "log_sidecar_sink_unacknowledged_bytes", "gauge",
            "Record bytes the sink holds that its receiver has not acknowledged (the checkpoint waits for them).", "sink",
            sinks.map { ($0.name, $0.http.unacknowledgedBytes.load(ordering: .relaxed)) })
        text.labelled(
            "log_sidecar_time_parse_errors_total", "counter",
            "Records whose own time (time_key) did not parse with time_format: sent with the processing time.", "sink",
            sinks.map { ($0.name, $0.http.timeParseErrors.load(ordering: .relaxed)) })
        text.family("log_sidecar_sink_request_seconds", "histogram", "Time from sending a request to its whole response.")
        for (name, http) in sinks {
            let histogram = http.requestSeconds.withLock { $0 }
            var cumulative = 0
            for (index, bound) in HTTPCounters.bucketBounds.enumerated() {
                cumulative += histogram.counts[index]
                text.start("log_sidecar_sink_request_seconds", "_bucket")
                text.label("sink", name)
                text.label("le", "\(bound)")
                text.end(cumulative)
            }
            text.start("log_sidecar_sink_request_seconds", "_bucket")
            text.label("sink", name)
            text.label("le", "+Inf")
            text.end(histogram.count)
            text.start("log_sidecar_sink_request_seconds", "_sum")
            text.label("sink", name)
            text.end(histogram.sum)
            text.start("log_sidecar_sink_request_seconds", "_count")
            text.label("sink", name)
            text.end(histogram.count)
        }
    }
}
