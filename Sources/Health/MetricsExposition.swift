import Synchronization
import Telemetry

/// `GET /metrics` in the Prometheus text format (0.0.4), written straight from the atomic counters:
/// swift-metrics with swift-prometheus would add a registry, locks and about 2 MiB of RSS for ten numbers.
enum MetricsExposition {
    private struct Metric {
        let name: String
        let type: String
        let help: String
        let samples: [(labels: String, value: Int)]
    }

    static func render(_ status: HealthStatus) -> String {
        let c = status.counters
        func value(_ atomic: borrowing Atomic<Int>) -> [(labels: String, value: Int)] { [("", atomic.load(ordering: .relaxed))] }
        func counter(_ name: String, _ help: String, _ atomic: borrowing Atomic<Int>) -> Metric {
            Metric(name: name, type: "counter", help: help, samples: value(atomic))
        }
        let perSink: ((SinkCounters) -> Int) -> [(labels: String, value: Int)] = { read in
            c.sinks.map { ("{sink=\"\(escapeLabel($0.name))\"}", read($0)) }
        }
        let metrics = [
            Metric(
                name: "log_sidecar_lines_read_total", type: "counter", help: "Lines read from the input, each ended by a newline.",
                samples: value(c.linesRead)),
            Metric(
                name: "log_sidecar_bytes_read_total", type: "counter", help: "Bytes read from the input, newlines included.",
                samples: value(c.bytesRead)),
            Metric(
                name: "log_sidecar_records_written_total", type: "counter", help: "Records accepted by each sink.",
                samples: perSink { $0.recordsWritten.load(ordering: .relaxed) }),
            Metric(
                name: "log_sidecar_sink_errors_total", type: "counter", help: "Failed write or flush attempts per sink.",
                samples: perSink { $0.errors.load(ordering: .relaxed) }),
            Metric(
                name: "log_sidecar_records_dropped_total", type: "counter",
                help: "Records a filter removed (drop, keep, sample, throttle); their lines still move the checkpoint.",
                samples: c.filters.map { ("{filter=\"\(escapeLabel($0.name))\"}", $0.recordsDropped.load(ordering: .relaxed)) }),
            Metric(
                name: "log_sidecar_parse_errors_total", type: "counter", help: "Lines that were not a JSON object, shipped under \"message\".",
                samples: value(c.parseErrors)),
            Metric(
                name: "log_sidecar_lines_truncated_total", type: "counter", help: "Lines longer than input.max_line_bytes, cut and flagged.",
                samples: value(c.linesTruncated)),
            Metric(name: "log_sidecar_empty_lines_total", type: "counter", help: "Empty lines, skipped.", samples: value(c.emptyLines)),
            Metric(
                name: "log_sidecar_partial_lines_total", type: "counter", help: "Last lines without a newline shipped with \"partial\".",
                samples: value(c.partialLines)),
            Metric(
                name: "log_sidecar_multiline_records_total", type: "counter", help: "Records joined from more than one line (multiline).",
                samples: value(c.multilineRecords)),
            Metric(
                name: "log_sidecar_multiline_truncated_total", type: "counter",
                help: "Multiline records cut at max_lines or max_bytes and flagged \"truncated\".", samples: value(c.multilineTruncated)),
            Metric(
                name: "log_sidecar_multiline_lines_skipped_total", type: "counter",
                help: "Lines skipped after a multiline record was cut, up to the next record.", samples: value(c.multilineLinesSkipped)),
            Metric(
                name: "log_sidecar_rotations_total", type: "counter", help: "Input file rotations (rename or delete and a new file).",
                samples: value(c.rotations)),
            Metric(
                name: "log_sidecar_truncations_total", type: "counter", help: "Input file truncations (copytruncate).", samples: value(c.truncations)),
            Metric(
                name: "log_sidecar_lag_bytes", type: "gauge",
                help: "Input bytes beyond the checkpoint written last (what a restart would read again), over every file.", samples: value(c.lagBytes)
            ),
            Metric(
                name: "log_sidecar_checkpoint_offset_bytes", type: "gauge",
                help: "The written checkpoint's offset in the file at input.path (with several files: the newest).",
                samples: value(c.checkpointOffset)),
            Metric(name: "log_sidecar_files_followed", type: "gauge", help: "Input files open and followed now.", samples: value(c.filesFollowed)),
            Metric(
                name: "log_sidecar_files_waiting", type: "gauge", help: "Matching files waiting for a descriptor under input.max_open_files.",
                samples: value(c.filesWaiting)),
            Metric(name: "log_sidecar_files_opened_total", type: "counter", help: "Input files opened.", samples: value(c.filesOpened)),
            Metric(
                name: "log_sidecar_files_waited_total", type: "counter", help: "Matching files that had to wait for a descriptor.",
                samples: value(c.filesWaited)),
            Metric(
                name: "log_sidecar_checkpoint_corrupt_total", type: "counter",
                help: "Corrupt checkpoints moved aside at start (the start then proceeded as a first start).",
                samples: value(c.checkpointCorrupt)),
            Metric(
                name: "log_sidecar_inotify_active", type: "gauge", help: "1 while inotify watches the input; 0 while the stat poll runs alone.",
                samples: [("", c.inotifyActive.load(ordering: .relaxed) ? 1 : 0)]),
            Metric(
                name: "log_sidecar_ready", type: "gauge",
                help: "1 once the first discovery has run (a literal single path: once that file is followed).",
                samples: [("", status.isReady ? 1 : 0)]),
            Metric(
                name: "log_sidecar_healthy", type: "gauge", help: "1 while /healthz answers 200.", samples: [("", status.problems().isEmpty ? 1 : 0)]),
        ]
        let child =
            !c.execMode
            ? []
            : [
                Metric(
                    name: "log_sidecar_child_running", type: "gauge", help: "1 while the application (exec mode) runs.",
                    samples: [("", c.childRunning.load(ordering: .relaxed) ? 1 : 0)]),
                Metric(
                    name: "log_sidecar_child_starts_total", type: "counter", help: "Times the application was started.", samples: value(c.childStarts)
                ),
                Metric(
                    name: "log_sidecar_child_restarts_total", type: "counter",
                    help: "Times the application was started again after it exited (exec.restart).",
                    samples: value(c.childRestarts)),
                Metric(
                    name: "log_sidecar_child_last_exit_code", type: "gauge",
                    help: "The application's last exit status as a shell reports it (128+N: signal N); -1 before it first exits.",
                    samples: value(c.childLastExitCode)),
            ]
        let journal =
            !c.readsJournal
            ? []
            : [
                counter("log_sidecar_journal_entries_read_total", "Journal entries read and handed to the pipeline.", c.journalEntriesRead),
                Metric(
                    name: "log_sidecar_journal_lag_seconds", type: "gauge",
                    help: "Seconds between now and the journal entry the checkpoint holds (every sink acknowledged it).",
                    samples: [("", status.journalLagSeconds)]),
                counter(
                    "log_sidecar_journal_entries_corrupt_total", "Journal entries that could not be read and were skipped.", c.journalEntriesCorrupt),
                counter(
                    "log_sidecar_journal_cursor_lost_total",
                    "Starts whose stored cursor's entry had been vacuumed: reading jumped to the oldest entry kept.", c.journalCursorLost),
                counter(
                    "log_sidecar_journal_reader_restarts_total",
                    "Times the journal reader process ended (a SIGBUS from a truncated file) and was started again.", c.journalReaderRestarts),
            ]
        var text = ""
        for metric in metrics + child + journal + httpMetrics(c) {
            text += "# HELP \(metric.name) \(metric.help)\n# TYPE \(metric.name) \(metric.type)\n"
            for sample in metric.samples { text += "\(metric.name)\(sample.labels) \(sample.value)\n" }
        }
        text += requestSeconds(c)
        return text
    }

    /// The HTTP sinks' metrics (docs/sinks.md); none without an HTTP sink.
    private static func httpMetrics(_ c: Counters) -> [Metric] {
        let sinks = c.sinks.compactMap { sink in sink.http.map { (label: "sink=\"\(escapeLabel(sink.name))\"", http: $0) } }
        if sinks.isEmpty { return [] }
        let each: ((HTTPCounters) -> Int) -> [(labels: String, value: Int)] = { read in sinks.map { ("{\($0.label)}", read($0.http)) } }
        return [
            Metric(
                name: "log_sidecar_sink_requests_total", type: "counter",
                help: "HTTP requests per sink by response status (code=\"0\": no response).",
                samples: sinks.flatMap { sink in
                    sink.http.requests.withLock { $0 }.sorted { $0.key < $1.key }.map { ("{\(sink.label),code=\"\($0.key)\"}", $0.value) }
                }),
            Metric(
                name: "log_sidecar_sink_retries_total", type: "counter", help: "Requests sent again after a transient or configuration error.",
                samples: each { $0.retries.load(ordering: .relaxed) }),
            Metric(
                name: "log_sidecar_records_dead_lettered_total", type: "counter",
                help: "Records the receiver refused for their content, written to the dead-letter file.",
                samples: each { $0.deadLettered.load(ordering: .relaxed) }),
            Metric(
                name: "log_sidecar_sink_batch_bytes", type: "gauge", help: "Uncompressed body size of the last request.",
                samples: each { $0.lastBatchBytes.load(ordering: .relaxed) }),
            Metric(
                name: "log_sidecar_sink_unacknowledged_bytes", type: "gauge",
                help: "Record bytes the sink holds that its receiver has not acknowledged (the checkpoint waits for them).",
                samples: each { $0.unacknowledgedBytes.load(ordering: .relaxed) }),
            Metric(
                name: "log_sidecar_time_parse_errors_total", type: "counter",
                help: "Records whose own time (time_key) did not parse with time_format: sent with the processing time.",
                samples: each { $0.timeParseErrors.load(ordering: .relaxed) }),
        ]
    }

    private static func requestSeconds(_ c: Counters) -> String {
        let name = "log_sidecar_sink_request_seconds"
        var text = ""
        for sink in c.sinks {
            guard let http = sink.http else { continue }
            if text.isEmpty { text = "# HELP \(name) Time from sending a request to its whole response.\n# TYPE \(name) histogram\n" }
            let label = "sink=\"\(escapeLabel(sink.name))\""
            let histogram = http.requestSeconds.withLock { $0 }
            var cumulative = 0
            for (index, bound) in HTTPCounters.bucketBounds.enumerated() {
                cumulative += histogram.counts[index]
                text += "\(name)_bucket{\(label),le=\"\(bound)\"} \(cumulative)\n"
            }
            text += "\(name)_bucket{\(label),le=\"+Inf\"} \(histogram.count)\n"
            text += "\(name)_sum{\(label)} \(histogram.sum)\n\(name)_count{\(label)} \(histogram.count)\n"
        }
        return text
    }

    private static func escapeLabel(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
