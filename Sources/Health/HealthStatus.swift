import Configuration
import Records
import Synchronization
import SystemSupport
import Telemetry

/// Liveness and the JSON report, computed from the atomic counters at request time.
struct HealthStatus: Sendable {
    let counters: Counters
    let stallTimeoutMs: Int64
    let sinkFailureTimeoutMs: Int64

    init(counters: Counters, config: HealthConfig) {
        self.counters = counters
        stallTimeoutMs = Int64(config.stallTimeoutMs)
        sinkFailureTimeoutMs = Int64(config.sinkFailureTimeoutMs)
    }

    /// The inputs are followed, in exec mode the child runs, and a journald input has its journal open.
    var isReady: Bool {
        counters.following.load(ordering: .relaxed) && (!counters.execMode || counters.childRunning.load(ordering: .relaxed))
            && (!counters.readsJournal || counters.journalOpen.load(ordering: .relaxed))
    }

    /// Seconds between now and the realtime of the last entry every sink acknowledged; 0 before one.
    var journalLagSeconds: Int {
        let acknowledged = counters.journalCheckpointRealtimeUsec.load(ordering: .relaxed)
        guard acknowledged > 0 else { return 0 }
        return max(0, Int(RFC3339.now() / 1_000_000_000) - acknowledged / 1_000_000)
    }

    /// Why the daemon is not healthy; empty when it is.
    func problems(now: Int64 = MonotonicClock.milliseconds()) -> [String] {
        var problems: [String] = []
        let deliveryStarted = counters.deliveryStartedMs.load(ordering: .relaxed)
        if deliveryStarted != 0, now - deliveryStarted > stallTimeoutMs {
            problems.append("a batch has waited \(now - deliveryStarted) ms for the sinks")
        }
        let lag = counters.lagBytes.load(ordering: .relaxed)
        let sinceProgress = now - counters.lastProgressMs.load(ordering: .relaxed)
        let sinceHeartbeat = now - counters.loopHeartbeatMs.load(ordering: .relaxed)
        if lag > 0, sinceProgress > stallTimeoutMs, sinceHeartbeat > stallTimeoutMs {
            problems.append("no progress for \(sinceProgress) ms with \(lag) bytes pending")
        }
        let inputError = counters.inputError.withLock { $0 }
        let sincePass = now - counters.lastPassSucceededMs.load(ordering: .relaxed)
        if !inputError.isEmpty, sincePass > stallTimeoutMs {
            problems.append("reading the input has failed for \(sincePass) ms: \(inputError)")
        }
        for sink in counters.sinks {
            let since = sink.failingSinceMs.load(ordering: .relaxed)
            if since != 0, now - since > sinkFailureTimeoutMs {
                let reason = sink.lastError.withLock { $0 }
                problems.append("sink \(sink.name) failing for \(now - since) ms: \(reason)")
            }
        }
        return problems
    }

    /// `GET /health`: status, `lines_processed` and every counter.
    func json(now: Int64 = MonotonicClock.milliseconds()) -> String {
        let problems = problems(now: now)
        let status = !problems.isEmpty ? "unhealthy" : (isReady ? "ok" : "waiting_for_input")
        let lines = counters.linesRead.load(ordering: .relaxed)
        var members: [(key: String, value: JSONValue)] = [
            ("status", .string(status)),
            ("ready", .bool(isReady)),
            ("lines_processed", .number(String(lines))),
            ("watch", .string(!counters.followsFiles ? "none" : counters.inotifyActive.load(ordering: .relaxed) ? "inotify" : "poll")),
        ]
        for (name, value) in scalarCounters { members.append((name, .number(String(value)))) }
        members.append(
            (
                "sinks",
                .array(
                    counters.sinks.map { sink in
                        let since = sink.failingSinceMs.load(ordering: .relaxed)
                        var members: [(key: String, value: JSONValue)] = [
                            ("name", .string(sink.name)),
                            ("records_written", .number(String(sink.recordsWritten.load(ordering: .relaxed)))),
                            ("errors", .number(String(sink.errors.load(ordering: .relaxed)))),
                            ("failing_for_ms", .number(String(since == 0 ? 0 : now - since))),
                            ("last_error", .string(sink.lastError.withLock { $0 })),
                        ]
                        if let http = sink.http {
                            members += [
                                ("retries", .number(String(http.retries.load(ordering: .relaxed)))),
                                ("records_dead_lettered", .number(String(http.deadLettered.load(ordering: .relaxed)))),
                                ("time_parse_errors", .number(String(http.timeParseErrors.load(ordering: .relaxed)))),
                                ("unacknowledged_bytes", .number(String(http.unacknowledgedBytes.load(ordering: .relaxed)))),
                            ]
                        }
                        return .object(members)
                    })
            ))
        members.append(
            (
                "filters",
                .array(
                    counters.filters.map { filter in
                        .object([
                            ("name", .string(filter.name)), ("records_dropped", .number(String(filter.recordsDropped.load(ordering: .relaxed)))),
                        ])
                    })
            ))
        members.append(
            (
                "files",
                .array(
                    counters.files.withLock { $0 }.map { file in
                        .object([
                            ("path", .string(file.path)), ("origin", .string(file.origin)), ("offset", .number(String(file.offset))),
                            ("lag", .number(String(file.lag))), ("open", .bool(file.open)),
                        ])
                    })
            ))
        if counters.execMode {
            let pid = counters.childPid.load(ordering: .relaxed)
            let exit = counters.childLastExitCode.load(ordering: .relaxed)
            members.append(
                (
                    "child",
                    .object([
                        ("pid", pid == 0 ? .null : .number(String(pid))),
                        ("running", .bool(counters.childRunning.load(ordering: .relaxed))),
                        ("starts", .number(String(counters.childStarts.load(ordering: .relaxed)))),
                        ("restarts", .number(String(counters.childRestarts.load(ordering: .relaxed)))),
                        ("last_exit_code", exit < 0 ? .null : .number(String(exit))),
                    ])
                ))
        }
        if counters.readsJournal {
            members.append(
                (
                    "journal",
                    .object([
                        ("source", .string(counters.journalSource.withLock { $0 })),
                        ("open", .bool(counters.journalOpen.load(ordering: .relaxed))),
                        ("cursor", .string(counters.journalCursor.withLock { $0 })),
                        ("lag_seconds", .number(String(journalLagSeconds))),
                        ("entries_read", .number(String(counters.journalEntriesRead.load(ordering: .relaxed)))),
                        ("entries_corrupt", .number(String(counters.journalEntriesCorrupt.load(ordering: .relaxed)))),
                        ("cursor_lost", .number(String(counters.journalCursorLost.load(ordering: .relaxed)))),
                        ("reader_restarts", .number(String(counters.journalReaderRestarts.load(ordering: .relaxed)))),
                    ])
                ))
        }
        members.append(("input_error", .string(counters.inputError.withLock { $0 })))
        members.append(("checkpoint_error", .string(counters.checkpointError.withLock { $0 })))
        members.append(("problems", .array(problems.map(JSONValue.string))))
        return JSONValue.object(members).serialized + "\n"
    }

    /// The counters that are one number each, under the names the JSON report uses.
    var scalarCounters: [(String, Int)] {
        [
            ("lines_read", counters.linesRead.load(ordering: .relaxed)),
            ("bytes_read", counters.bytesRead.load(ordering: .relaxed)),
            ("empty_lines", counters.emptyLines.load(ordering: .relaxed)),
            ("parse_errors", counters.parseErrors.load(ordering: .relaxed)),
            ("lines_truncated", counters.linesTruncated.load(ordering: .relaxed)),
            ("partial_lines", counters.partialLines.load(ordering: .relaxed)),
            ("multiline_records", counters.multilineRecords.load(ordering: .relaxed)),
            ("multiline_truncated", counters.multilineTruncated.load(ordering: .relaxed)),
            ("multiline_lines_skipped", counters.multilineLinesSkipped.load(ordering: .relaxed)),
            ("rotations", counters.rotations.load(ordering: .relaxed)),
            ("truncations", counters.truncations.load(ordering: .relaxed)),
            ("lag_bytes", counters.lagBytes.load(ordering: .relaxed)),
            ("checkpoint_offset", counters.checkpointOffset.load(ordering: .relaxed)),
            ("checkpoint_corrupt", counters.checkpointCorrupt.load(ordering: .relaxed)),
            ("files_followed", counters.filesFollowed.load(ordering: .relaxed)),
            ("files_waiting", counters.filesWaiting.load(ordering: .relaxed)),
            ("files_opened", counters.filesOpened.load(ordering: .relaxed)),
            ("files_waited", counters.filesWaited.load(ordering: .relaxed)),
        ]
    }
}
