#!/usr/bin/env python3
"""The journald input beside rsyslog's imjournal and syslog-ng's systemd-journal(), in one run: ENTRIES
entries (default 1,000,000) already in a private journal (scripts/private-journald.sh), each contender
shipping them to a file as JSON, contenders alternated over ROUNDS; then log-sidecar's follow latency
(entry logged -> record in the file) at 1,000 entries/s. Runs itself under `unshare --mount` as root.

    python3 Benchmarks/journal-input.py [--entries N] [--rounds N] [--latency-seconds N]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench import fill  # noqa: E402  (the catch-up benchmark's helper)
BINARY = os.environ.get("LOG_SIDECAR", os.path.join(REPO, ".build/release/log-sidecar"))
SYSLOG_NG = os.path.join(HERE, ".peers", "syslog-ng")


def tree(pid):
    """The pid and its descendants (log-sidecar's journal reader is its child)."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return pids


def cpu_and_peak(pid):
    ticks, peak = 0, 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
            with open(f"/proc/{p}/status") as f:
                peak += next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
        except (OSError, StopIteration):
            pass
    return ticks / os.sysconf("SC_CLK_TCK"), peak


def start(name, work, output, identifier="bench", read_from="beginning"):
    stderr = open(os.path.join(work, "stderr"), "w")
    if name.startswith("log-sidecar"):
        fields = "" if name.endswith("(all fields)") else ', "fields": ["SYSLOG_IDENTIFIER"]'
        config = os.path.join(work, "config.json")
        with open(config, "w") as f:
            f.write('{"input": {"journald": {"matches": ["SYSLOG_IDENTIFIER=%s"]%s}, "checkpoint_path": "%s/cp.json", "read_from": "%s"},'
                    ' "enrich": {"timestamp_field": ""}, "health": {"port": 0},'
                    ' "sinks": [{"type": "file", "path": "%s", "max_bytes": 1099511627776}]}' % (identifier, fields, work, read_from, output))
        return subprocess.Popen([BINARY, "--config", config, "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=stderr)
    if name.startswith("rsyslog"):
        conf = os.path.join(work, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write(fill("rsyslog-imjournal.conf", WORK=work, OUTPUT=output))
        return subprocess.Popen(["rsyslogd", "-n", "-f", conf, "-i", os.path.join(work, "rsyslog.pid")],
                                stdout=subprocess.DEVNULL, stderr=stderr)
    conf = os.path.join(work, "syslog-ng.conf")
    with open(conf, "w") as f:
        f.write(fill("syslog-ng-journal.conf", OUTPUT=output))
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(SYSLOG_NG, "usr/lib/syslog-ng"))
    return subprocess.Popen(
        [os.path.join(SYSLOG_NG, "usr/sbin/syslog-ng"), "-F", "-f", conf, "--no-caps",
         "--module-path", os.path.join(SYSLOG_NG, "usr/lib/syslog-ng/3.38"),
         f"--persist-file={work}/syslog-ng.persist", f"--pidfile={work}/syslog-ng.pid", f"--control={work}/syslog-ng.ctl"],
        env=env, stdout=subprocess.DEVNULL, stderr=stderr)


def catch_up(name, entries, root):
    work = tempfile.mkdtemp(dir=root)
    output = os.path.join(work, "out.jsonl")
    began = time.monotonic()
    process = start(name, work, output)
    lines, handle = 0, None
    deadline = began + 900
    while time.monotonic() < deadline and process.poll() is None:
        if handle is None and os.path.exists(output):
            handle = open(output, "rb")
        if handle is not None:
            lines += sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
        if lines >= entries:
            break
        time.sleep(0.05)
    seconds = time.monotonic() - began
    cpu, peak = cpu_and_peak(process.pid)
    process.terminate()
    process.wait()
    check = "ok"
    with open(output, "rb") as f:
        first = json.loads(f.readline())
        if "bench entry" not in first.get("message", ""):
            check = f"first record {first}"
    shutil.rmtree(work, ignore_errors=True)
    return dict(entries=lines, seconds=round(seconds, 2), entries_per_s=round(lines / seconds), cpu_seconds=round(cpu, 2),
                cpu_us_per_entry=round(cpu / max(lines, 1) * 1e6, 2), peak_rss_kib=peak, complete=lines >= entries, check=check)


def latency(rate, seconds, root):
    """Entries sent through systemd-cat at `rate`/s, each carrying its send time; each record's arrival
    in the output file noted by a reader that follows it."""
    work = tempfile.mkdtemp(dir=root)
    output = os.path.join(work, "out.jsonl")
    process = start("log-sidecar", work, output, identifier="latency", read_from="end")
    time.sleep(1)  # the daemon and its reader up before the first entry: latency, not start-up
    sender = subprocess.Popen(["systemd-cat", "-t", "latency"], stdin=subprocess.PIPE)
    arrivals, sent = [], 0
    out = None
    start_ns = time.monotonic_ns()
    total = rate * seconds
    buffer = b""
    while len(arrivals) < total and time.monotonic_ns() - start_ns < (seconds + 10) * 1e9:
        now = time.monotonic_ns()
        while sent < total and now >= start_ns + sent * 1e9 / rate:
            sender.stdin.write(b"sent %d\n" % time.time_ns())
            sender.stdin.flush()
            sent += 1
            now = time.monotonic_ns()
        if out is None and os.path.exists(output):
            out = open(output, "rb")
        if out is not None:
            buffer += out.read()
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                arrivals.append((time.time_ns() - int(json.loads(line)["message"].split()[-1])) / 1e6)
        time.sleep(0.0002)
    sender.stdin.close()
    sender.wait()
    process.terminate()
    process.wait()
    shutil.rmtree(work, ignore_errors=True)
    arrivals.sort()
    pick = lambda q: round(arrivals[min(len(arrivals) - 1, int(q * len(arrivals)))], 2) if arrivals else None
    return dict(rate=rate, sent=sent, received=len(arrivals), p50_ms=pick(0.5), p99_ms=pick(0.99), max_ms=round(arrivals[-1], 2) if arrivals else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency-seconds", type=int, default=20)
    parser.add_argument("--latency-only", action="store_true", help="skip the catch-up")
    args = parser.parse_args()
    if os.environ.get("JOURNAL_BENCH_INSIDE") != "1":
        os.execvpe("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable] + sys.argv,
                   dict(os.environ, JOURNAL_BENCH_INSIDE="1"))
    root = tempfile.mkdtemp(prefix="journal-bench-")
    journald = int(subprocess.check_output([os.path.join(REPO, "scripts/private-journald.sh"), root]).decode().split()[-1])
    try:
        print(f"writing {args.entries:,} entries into the private journal ...", file=sys.stderr, flush=True)
        subprocess.run(f"seq 1 {args.entries} | sed 's/^/bench entry /' | systemd-cat -t bench", shell=True, check=True)
        for _ in range(1200):
            held = int(subprocess.check_output("journalctl -q -o cat -t bench | wc -l", shell=True))
            if held >= args.entries:
                break
            time.sleep(0.1)
        contenders = ["log-sidecar", "log-sidecar (all fields)", "rsyslog (imjournal)", "syslog-ng (systemd-journal)"]
        rows = {}
        for round_ in range(0 if args.latency_only else args.rounds):
            for name in contenders if round_ % 2 == 0 else list(reversed(contenders)):
                print(f"journal {args.entries:,} entries: {name} ...", file=sys.stderr, flush=True)
                result = catch_up(name, args.entries, root)
                best = rows.get(name)
                if best is None or result["entries_per_s"] > best["entries_per_s"]:
                    rows[name] = result
        print(f"\nThe journal: {args.entries:,} entries already in a private journal, to a file as JSON (best of {args.rounds} alternated rounds)")
        print(f"{'contender':30} {'entries/s':>10} {'CPU s':>7} {'µs/entry':>9} {'peak MiB':>9}  check")
        for name, row in rows.items():
            print(f"{name:30} {row['entries_per_s']:>10,} {row['cpu_seconds']:>7} {row['cpu_us_per_entry']:>9} {row['peak_rss_kib'] / 1024:>9.1f}  {row['check'] if row['complete'] else 'INCOMPLETE ' + str(row['entries'])}")
        follow = latency(1000, args.latency_seconds, root)
        print(f"\nfollow latency at 1,000 entries/s for {args.latency_seconds} s: {follow}")
        results_dir = os.path.join(HERE, "results")
        os.makedirs(results_dir, exist_ok=True)
        with open(os.path.join(results_dir, "journal-input.json"), "w") as f:
            json.dump(dict(date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), entries=args.entries, rows=rows, latency=follow), f, indent=1)
    finally:
        os.kill(journald, 15)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
