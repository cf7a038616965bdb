import Foundation
import Testing

/// The journal changing under the reader: rotation, journald killed, vacuum, a truncated file
/// (SIGBUS in the reader), corrupt bytes, a stalled sink. A real journald in a private mount
/// namespace (root only).
@Suite("journald input: faults", .enabled(if: getuid() == 0, "needs root for unshare --mount"))
struct JournaldFaultTests {
    /// Numbers from the records' messages, in the order shipped.
    func numbers(_ scenario: JournalScenario) throws -> [Int] {
        try scenario.records().compactMap { ($0["message"] as? String).flatMap(Int.init) }
    }

    /// What differs between the numbers shipped and `0..<count`, for a failure's message: a long array
    /// compared whole says nothing of where.
    func difference(_ numbers: [Int], _ count: Int) -> String {
        let seen = Set(numbers)
        let missing = (0..<count).filter { !seen.contains($0) }
        let firstOff = zip(numbers, 0..<count).first { $0 != $1 }
        return "\(numbers.count) shipped, \(numbers.count - seen.count) repeated, \(missing.count) missing (first \(missing.prefix(5))), "
            + "first out of place: \(firstOff.map { "\($0.0) where \($0.1) belongs" } ?? "none")"
    }

    @Test("journalctl --rotate every second while 10,000 entries/s are written: every entry once, in order")
    func rotationUnderLoad() throws {
        let (scenario, _) = JournalScenario.app()
        let status = try scenario.run(
            """
            start_daemon reader "$WORK/reader.json"
            python3 -c '
            import sys, time
            start = time.monotonic()
            for n in range(60000):
                while time.monotonic() < start + n / 10000: time.sleep(0.0005)
                sys.stdout.write(f"{n}\\n")
                if n % 100 == 99: sys.stdout.flush()
            ' | systemd-cat -t app &
            sender=$!
            for _ in 1 2 3 4 5 6 7; do journalctl --rotate; sleep 1; done
            wait $sender
            ls /run/log/journal/*/ > "$WORK/files.txt"
            wait_for "every entry" 60 lines_at_least "$WORK/out.jsonl" 60000
            stop_daemon reader TERM
            """)
        #expect(status == 0, "\(scenario.logs)")
        let shipped = try numbers(scenario)
        #expect(shipped == Array(0..<60_000), "\(difference(shipped, 60_000))")
        #expect(scenario.directory.read("files.txt").components(separatedBy: "system@").count > 5, "rotated: \(scenario.directory.read("files.txt"))")
        #expect(!scenario.directory.read("reader.log").contains("the journal reader ended"))
    }

    @Test("journald killed and restarted mid-stream: every entry once, in order, the reader untouched")
    func journaldRestarted() throws {
        let (scenario, _) = JournalScenario.app()
        let status = try scenario.run(
            """
            start_daemon reader "$WORK/reader.json"
            seq 0 19999 | systemd-cat -t app
            wait_for "the first part" 60 lines_at_least "$WORK/out.jsonl" 20000
            kill -KILL "$JOURNALD_PID"
            wait "$JOURNALD_PID" 2>/dev/null || true
            JOURNALD_PID=$("$REPO/scripts/private-journald.sh" "$WORK" --restart)
            seq 20000 39999 | systemd-cat -t app
            wait_for "the second part" 60 lines_at_least "$WORK/out.jsonl" 40000
            stop_daemon reader TERM
            journalctl -q --no-pager -o json SYSLOG_IDENTIFIER=app > "$WORK/journal.json"
            """)
        #expect(status == 0, "\(scenario.logs)")
        let shipped = try numbers(scenario)
        #expect(shipped == Array(0..<40_000), "\(difference(shipped, 40_000))")
        // What journald itself holds, to tell a failure of ours from one of the journal's (one run
        // shipped 12774 as "12" and "774", in the part before the kill): we ship each entry it has.
        let held = try scenario.journal("journal.json").map { ($0["MESSAGE"] as? String) ?? "?" }
        let shippedMessages = try scenario.records().map { ($0["message"] as? String) ?? "?" }
        let first = zip(shippedMessages, held).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        let around = first.map { Array(held[$0..<min($0 + 3, held.count)]) } ?? []
        #expect(
            shippedMessages == held,
            "journald holds \(held.count) entries, we shipped \(shippedMessages.count); first difference at \(first ?? -1): journald's \(around)")
    }

    @Test("vacuumed while stopped behind: the jump is logged and counted, nothing after it lost; no deleted file held open")
    func vacuumed() throws {
        let (scenario, port) = JournalScenario.app()
        let status = try scenario.run(
            """
            start_daemon reader "$WORK/reader.json"
            seq 0 999 | systemd-cat -t app
            wait_for "the first 1,000" 60 lines_at_least "$WORK/out.jsonl" 1000
            stop_daemon reader TERM
            for part in 1 2 3 4; do
              seq $((part * 10000)) $((part * 10000 + 9999)) | systemd-cat -t app
              wait_for "part $part in the journal" 60 journal_at_least $((1000 + part * 10000)) -t app
              journalctl --rotate
            done
            # Fewer than two archived files: only the newest (part 4) is kept.
            journalctl --vacuum-files=2 2> "$WORK/vacuum.txt"
            journalctl -q --no-pager -o json SYSLOG_IDENTIFIER=app > "$WORK/journal.json"
            start_daemon reader "$WORK/reader.json"
            wait_for "what the journal kept" 60 lines_at_least "$WORK/out.jsonl" $((1000 + $(wc -l < "$WORK/journal.json")))
            curl -s "127.0.0.1:\(port)/health" > "$WORK/health.json"
            curl -s "127.0.0.1:\(port)/metrics" > "$WORK/metrics.txt"
            # Vacuumed while we run, behind us: once the reader has woken up for a newer entry, no
            # deleted journal file is open.
            reader=$(reader_of reader)
            for part in 5 6; do
              seq $((part * 10000)) $((part * 10000 + 9)) | systemd-cat -t app
              wait_for "part $part" 60 grep -q "\"$((part * 10000 + 9))\"" "$WORK/out.jsonl"
              journalctl --rotate
            done
            journalctl --vacuum-files=2 2>> "$WORK/vacuum.txt"
            echo 99999 | systemd-cat -t app
            wait_for "the marker after the vacuum" 60 grep -q '"99999"' "$WORK/out.jsonl"
            ls -l "/proc/$reader/fd" > "$WORK/fds.txt"
            stop_daemon reader TERM
            """)
        #expect(status == 0, "\(scenario.logs)")
        let shipped = try numbers(scenario)
        let kept = try scenario.journal("journal.json").compactMap { ($0["MESSAGE"] as? String).flatMap(Int.init) }
        #expect(kept == Array(40_000..<50_000), "the vacuum kept part 4's file alone: \(kept.count) kept")
        #expect(Array(shipped.prefix(1000)) == Array(0..<1000))
        // After the jump: exactly what the journal kept, in order, then the later entries.
        #expect(Array(shipped.dropFirst(1000).prefix(kept.count)) == kept)
        #expect(shipped.suffix(21) == Array(50_000..<50_010) + Array(60_000..<60_010) + [99_999])
        let log = scenario.directory.read("reader.log")
        #expect(log.contains("journal entries were lost while we were stopped") && log.contains("jumped over"), "\(log.suffix(2000))")
        #expect(scenario.directory.read("metrics.txt").contains("log_sidecar_journal_cursor_lost_total 1"))
        let health = try JSONSerialization.jsonObject(with: Data(scenario.directory.read("health.json").utf8)) as? [String: Any]
        let journal = health?["journal"] as? [String: Any]
        #expect(journal?["cursor_lost"] as? Int == 1 && journal?["open"] as? Bool == true, "\(String(describing: health))")
        #expect(!scenario.directory.read("fds.txt").contains("(deleted)"), "\(scenario.directory.read("fds.txt"))")
    }

    @Test("a journal file truncated under the reader (SIGBUS): the daemon stays up, the reader restarts, later entries arrive")
    func truncatedUnderTheReader() throws {
        let (scenario, port) = JournalScenario.app()
        let status = try scenario.run(
            """
            archived=$(archived_entries 200000)
            start_daemon reader "$WORK/reader.json"
            wait_for "the reader under way" 60 lines_at_least "$WORK/out.jsonl" 1000
            kill -STOP "$PID_reader"
            reader=$(reader_of reader)
            wait_for "the reader blocked on its pipe" 30 grep -q pipe_write "/proc/$reader/wchan"
            # Cut behind the reader's position: its next entry lies beyond the end of the file.
            truncate -s 65536 "$archived"
            kill -CONT "$PID_reader"
            wait_for "the reader's end" 60 grep -q "the journal reader ended" "$WORK/reader.log"
            seq 300000 300099 | systemd-cat -t app
            wait_for "the entries after the truncation" 60 grep -q '"300099"' "$WORK/out.jsonl"
            kill -0 "$PID_reader"
            journalctl -q --no-pager -o json SYSLOG_IDENTIFIER=app > "$WORK/journal.json" 2>/dev/null || true
            curl -s "127.0.0.1:\(port)/metrics" > "$WORK/metrics.txt"
            stop_daemon reader TERM
            """)
        #expect(status == 0, "\(scenario.logs)")
        let log = scenario.directory.read("reader.log")
        #expect(log.contains("killed by signal 7"), "\(log.suffix(3000))")
        #expect(scenario.directory.read("metrics.txt").contains("log_sidecar_journal_reader_restarts_total 1"))
        let shipped = try numbers(scenario)
        #expect(Array(shipped.suffix(100)) == Array(300_000..<300_100))
        // Nothing twice, nothing out of order: the new reader continued after the last entry taken.
        #expect(zip(shipped, shipped.dropFirst()).allSatisfy { $0 < $1 })
        // The truncation destroyed the rest of that file: a jump, logged and counted; the next file whole.
        #expect(log.contains("journal entries were lost") || log.contains("jumped over"), "\(log.suffix(2000))")
        let kept = try scenario.journal("journal.json").compactMap { ($0["MESSAGE"] as? String).flatMap(Int.init) }
        #expect(!kept.isEmpty && Set(kept).isSubset(of: Set(shipped)), "\(kept.count) entries journalctl still lists")
    }

    @Test("bytes of a journal file overwritten: the reader skips what it cannot read, counts it, and goes on without spinning")
    func corruptBytes() throws {
        let (scenario, port) = JournalScenario.app()
        let status = try scenario.run(
            """
            archived=$(archived_entries 50000)
            size=$(stat -c %s "$archived")
            for at in 3 5 7; do
              head -c 4096 /dev/urandom | dd of="$archived" bs=1 seek=$(( size * at / 10 )) conv=notrunc status=none
            done
            start_daemon reader "$WORK/reader.json"
            seq 100000 100099 | systemd-cat -t app
            wait_for "the entries after the corrupt file" 60 grep -q '"100099"' "$WORK/out.jsonl"
            reader=$(reader_of reader)
            # For a second after its last entry the reader looks at the journal every 2 ms (by design,
            # see JournalReader.follow); the quiet window starts after that second.
            sleep 1.5
            awk '{print $14 + $15}' "/proc/$reader/stat" > "$WORK/cpu-before.txt"
            sleep 2  # idle on purpose: CPU over two quiet seconds
            awk '{print $14 + $15}' "/proc/$reader/stat" > "$WORK/cpu-after.txt"
            curl -s "127.0.0.1:\(port)/health" > "$WORK/health.json"
            stop_daemon reader TERM
            """)
        #expect(status == 0, "\(scenario.logs)")
        let shipped = try numbers(scenario)
        #expect(Array(shipped.suffix(100)) == Array(100_000..<100_100))
        #expect(Set(shipped).count == shipped.count, "no entry twice")
        let ticks =
            (Int(scenario.directory.read("cpu-after.txt").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
            - (Int(scenario.directory.read("cpu-before.txt").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
        #expect(ticks <= 2, "the reader used \(ticks) ticks in two quiet seconds")
        let health = try JSONSerialization.jsonObject(with: Data(scenario.directory.read("health.json").utf8)) as? [String: Any]
        let journal = health?["journal"] as? [String: Any]
        // sd-journal drops a file it cannot iterate through without telling its caller: what it read
        // and what it counted is reported, not asserted (the issue note has the figures).
        let corrupt = journal?["entries_corrupt"] ?? "?"
        print("corrupt bytes: \(shipped.count - 100) of 50,000 entries read, entries_corrupt \(corrupt), \(ticks) ticks quiet")
        #expect(journal?["open"] as? Bool == true && journal?["reader_restarts"] as? Int == 0)
    }

    @Test("a stalled sink: reading pauses, memory stays flat, the cursor stays behind; then every entry arrives")
    func stalledSink() throws {
        let scenario = JournalScenario()
        let port = HTTPClient.freePort()
        scenario.writeConfig(#"{"matches": ["SYSLOG_IDENTIFIER=app"]}"#, healthPort: port, output: scenario.directory.file("small/out.jsonl"))
        let status = try scenario.run(
            """
            mkdir -p "$WORK/small"
            mount -t tmpfs -o size=2m tmpfs "$WORK/small"
            seq 0 99999 | sed 's/^/entry /' | systemd-cat -t app
            start_daemon reader "$WORK/reader.json"
            wait_for "the sink's disk full" 60 grep -q "No space left" "$WORK/reader.log"
            sleep 1  # stalled on purpose: the first sample once the stall has settled
            # The first request first: the health server's own buffers are not what this measures.
            curl -s "127.0.0.1:\(port)/health" > "$WORK/health1.json"
            grep VmRSS "/proc/$PID_reader/status" | awk '{print $2}' > "$WORK/rss1.txt"
            sleep 2  # stalled on purpose: nothing may move for two seconds
            grep VmRSS "/proc/$PID_reader/status" | awk '{print $2}' > "$WORK/rss2.txt"
            curl -s "127.0.0.1:\(port)/health" > "$WORK/health2.json"
            mount -o remount,size=200m "$WORK/small"
            wait_for "every entry" 120 grep -q '"entry 99999"' "$WORK/small/out.jsonl"
            cp "$WORK/small/out.jsonl" "$WORK/out.jsonl"
            stop_daemon reader TERM
            """)
        #expect(status == 0, "\(scenario.logs)")
        let messages = try scenario.records().compactMap { $0["message"] as? String }
        #expect(messages == (0..<100_000).map { "entry \($0)" })
        let rss = ["rss1.txt", "rss2.txt"].map { Int(scenario.directory.read($0).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 }
        #expect(rss[1] < 40_000 && rss[1] - rss[0] < 2_000, "RSS \(rss) KiB")
        func read(_ file: String) throws -> Int? {
            let health = try JSONSerialization.jsonObject(with: Data(scenario.directory.read(file).utf8)) as? [String: Any]
            return (health?["journal"] as? [String: Any])?["entries_read"] as? Int
        }
        #expect(try read("health1.json") == read("health2.json"), "reading paused")
        func cursor(_ file: String) throws -> String? {
            let health = try JSONSerialization.jsonObject(with: Data(scenario.directory.read(file).utf8)) as? [String: Any]
            return (health?["journal"] as? [String: Any])?["cursor"] as? String
        }
        #expect(try cursor("health1.json") == cursor("health2.json"), "the checkpoint stays behind")
    }
}
