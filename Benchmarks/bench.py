#!/usr/bin/env python3
"""log-sidecar beside its peers on the same data in the same run: catch-up throughput, follow latency,
idle cost and journald. Prints one table and writes results/bench.json. Run it through run.sh."""
import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BINARY = os.path.join(ROOT, ".build", "release", "log-sidecar")
SYSLOG_NG = os.path.join(HERE, ".peers", "syslog-ng")
PAD = "x" * 200


def proc_usage(pid):
    """CPU seconds (user+system, threads included) and peak/current RSS in KiB, from /proc."""
    # schedstat's first field is the CPU time in ns, per thread: far finer than stat's clock ticks.
    cpu = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                cpu += int(f.read().split()[0]) / 1e9
        except FileNotFoundError:
            pass  # a thread that ended in between
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    return cpu, int(status["VmHWM"].split()[0]), int(status["VmRSS"].split()[0])


def count_lines(path):
    count = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            count += chunk.count(b"\n")
    return count


# ---------------------------------------------------------------- contenders

class Contender:
    """A shipper that follows INPUT and writes one JSON object per line to OUTPUT."""
    parses = True
    note = ""

    def __init__(self, name):
        self.name = name

    def start(self, input_path, output_path, work):
        raise NotImplementedError

    def stop(self, process):
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class LogSidecar(Contender):
    def __init__(self, name, plain=False, health=False, binary=BINARY, filters=None, note=None, entry=None, http=None):
        super().__init__(name)
        # An HTTP sink's format ("clickhouse", ...) instead of the file sink: the receiver's port comes with start().
        self.http = http
        self.plain = plain
        # An input.paths entry's own keys (format, multiline, parse): the input then goes in the file.
        self.entry = entry
        self.filters = filters
        self.health = health
        self.binary = binary
        self.parses = True
        self.note = note or ("validates and splices JSON, no enrichment fields" if plain else "merge mode: host + processed_at")

    def start(self, input_path, output_path, work, port=None):
        config = os.path.join(work, "log-sidecar.json")
        with open(config, "w") as f:
            # One output file however large the run: the sink's own rotation is not what is measured.
            settings = {"sinks": [{"type": "file", "path": output_path, "max_bytes": 1 << 40}]}
            if self.http:
                settings = {"sinks": [{"type": "http", "format": self.http, "url": f"http://127.0.0.1:{port}/", "table": "logs"}]}
            if self.filters:
                settings["filters"] = self.filters
            if self.entry is not None:
                settings["input"] = {"paths": [dict(self.entry, path=input_path)]}
            json.dump(settings, f)
        # A glob goes to input.paths, which a build from before many files does not know.
        key = "--input-paths" if any(c in input_path for c in "*?[") else "--input-path"
        args = [self.binary, "--config", config] + ([key, input_path] if self.entry is None else []) + [
                "--input-checkpoint-path", os.path.join(work, "checkpoint.json"),
                "--health-port", "19990" if self.health else "0", "--health-address", "127.0.0.1", "--log-level", "warning"]
        if self.plain:
            args += ["--enrich-host-field", "", "--enrich-timestamp-field", ""]
        return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "stderr"), "w"))


def fill(template, **values):
    with open(os.path.join(HERE, "peers", template)) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


class Peer(Contender):
    """A peer run by hand from a config of ours in Benchmarks/peers."""

    def __init__(self, name, config, parses, note):
        super().__init__(name)
        self.config = config
        self.parses = parses
        self.note = note


class Rsyslog(Peer):
    def start(self, input_path, output_path, work, port=None):
        conf = os.path.join(work, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write(fill(self.config, INPUT=input_path, OUTPUT=output_path, WORK=work, PORT=str(port)))
        return subprocess.Popen(["rsyslogd", "-n", "-f", conf, "-i", os.path.join(work, "rsyslog.pid")],
                                stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "stderr"), "w"))


class SyslogNG(Peer):
    def start(self, input_path, output_path, work, port=None):
        conf = os.path.join(work, "syslog-ng.conf")
        with open(conf, "w") as f:
            f.write(fill(self.config, INPUT=input_path, OUTPUT=output_path,
                         DIR=os.path.dirname(input_path), PATTERN=os.path.basename(input_path)))
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(SYSLOG_NG, "usr/lib/syslog-ng"))
        return subprocess.Popen(
            [os.path.join(SYSLOG_NG, "usr/sbin/syslog-ng"), "-F", "-f", conf, "--no-caps",
             "--module-path", os.path.join(SYSLOG_NG, "usr/lib/syslog-ng/3.38"),
             f"--persist-file={work}/syslog-ng.persist", f"--pidfile={work}/syslog-ng.pid",
             f"--control={work}/syslog-ng.ctl"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "stderr"), "w"))


BASELINE = os.environ.get("BENCH_BASELINE")


def contenders(selected):
    everyone = [
        LogSidecar("log-sidecar"),
        *([LogSidecar("log-sidecar (baseline)", binary=BASELINE)] if BASELINE else []),
        LogSidecar("log-sidecar (plain)", plain=True),
        Rsyslog("rsyslog (splice)", "rsyslog-splice.conf", False, "string template, no JSON parse"),
        Rsyslog("rsyslog (mmjsonparse)", "rsyslog-parse.conf", True, "parses, re-serializes $!"),
        SyslogNG("syslog-ng (splice)", "syslog-ng-splice.conf", False, "string template, no JSON parse; polls 1 s"),
        SyslogNG("syslog-ng (json-parser)", "syslog-ng-parse.conf", True, "numbers become strings, keys reordered"),
    ]
    return [c for c in everyone if not selected or any(s in c.name for s in selected)]


# The filter workload's set, the same in every contender: drop debug and trace, remove two fields (one
# nested), mask the local part of the e-mail address.
FILTER_SET = [
    {"type": "drop", "field": "level", "equals": ["debug", "trace"]},
    {"type": "remove", "fields": ["path", "user.name"]},
    {"type": "redact", "fields": ["email"], "pattern": "^[^@]+@", "replacement": "***@"},
]


def filter_contenders(selected):
    everyone = [
        LogSidecar("log-sidecar (no filters)"),
        LogSidecar("log-sidecar (filters)", filters=FILTER_SET, note="merge mode + drop, remove x2, redact"),
        LogSidecar("log-sidecar (drop only)", filters=FILTER_SET[:1], note="merge mode + the set's drop filter alone"),
        *([LogSidecar("log-sidecar (baseline, no filters)", binary=BASELINE),
           LogSidecar("log-sidecar baseline (filters)", binary=BASELINE, filters=FILTER_SET, note="the same set, the baseline binary"),
           LogSidecar("log-sidecar baseline (drop only)", binary=BASELINE, filters=FILTER_SET[:1], note="the drop filter, the baseline binary")]
          if BASELINE else []),
        Rsyslog("rsyslog (filters)", "rsyslog-filter.conf", True, "mmjsonparse, if/stop, unset, re_extract+replace"),
        SyslogNG("syslog-ng (filters)", "syslog-ng-filter.conf", True, "json-parser, filter, rewrite unset/subst"),
    ]
    return [c for c in everyone if not selected or any(s in c.name for s in selected)]


# The multiline workload: log4j-style lines with a Java trace every 50 records (the test suite's
# backlog generator), joined and cut into time, level, thread and message by every contender.
sys.path.insert(0, os.path.join(ROOT, "Tests", "LogSidecarTests", "Fixtures", "multiline"))
import backlog  # noqa: E402

LOG4J_PATTERN = r"^(?<time>\S+ \S+) (?<level>[A-Z]+) +\[(?<thread>[^\]]+)\] (?<message>(?s).*)$"


def multiline_contenders(selected):
    everyone = [
        LogSidecar("log-sidecar (text)", plain=True, entry={"format": "text"}, note="a line a record, {\"message\": line}"),
        LogSidecar("log-sidecar (java+regex)", plain=True,
                   entry={"format": "text", "multiline": {"preset": "java"}, "parse": {"type": "regex", "pattern": LOG4J_PATTERN}},
                   note="preset java, regex parse: time, level, thread, message"),
        Rsyslog("rsyslog (startmsg.regex)", "rsyslog-multiline.conf", True, "imfile startmsg.regex, ERE per field in the template"),
        SyslogNG("syslog-ng (regexp)", "syslog-ng-multiline.conf", True, "multi-line-mode(regexp), regexp-parser, format-json"),
    ]
    return [c for c in everyone if not selected or any(s in c.name for s in selected)]


def check_multiline(output):
    """Whether the first 20,000 records are written records, each whole (its four fields put back
    together give the record's text), and whether they are in the order written."""
    later = 0
    last = -1
    with open(output) as f:
        for _, line in zip(range(20000), f):
            record = json.loads(line)
            text = "%s %s [%s] %s\n" % (record.get("time"), record.get("level"), record.get("thread"), record.get("message"))
            found = re.search(r"#(\d+)#", text)
            n = int(found.group(1)) if found else -1
            if n < 0 or text != backlog.record(n):
                return "WRONG: %s" % line.strip()[:160]
            later += n < last
            last = n
    return "ok" if not later else "whole, %d of 20,000 out of order" % later


def check_lines(output):
    """The plain text route ships a line a record: the first lines are the file's first lines."""
    expected = "".join(backlog.record(n) for n in range(2000)).split("\n")
    with open(output) as f:
        for n, line in zip(range(len(expected) - 1), f):
            if json.loads(line)["message"] != expected[n]:
                return "WRONG at %d: %s" % (n, line.strip()[:160])
    return "ok"


def pending_memory(files, work):
    """FILES text files under one glob, each ending in a log line and a Java trace that nothing
    follows: with a long timeout every one is a pending record. RSS once all are read, against the
    same number of files of one line each read without multiline (nothing pending)."""
    rows = {}
    for label, pending in (("one line each", False), ("a pending trace each", True)):
        logs = os.path.join(work, label.replace(" ", "-"))
        os.makedirs(logs)
        for index in range(files):
            with open(os.path.join(logs, "f%04d.log" % index), "w") as f:
                f.write(backlog.record(49 + 50 * index) if pending else backlog.record(50 * index))
        # The baseline reads its files as plain text: with multiline a lone line would be pending too.
        entry = {"format": "text", "multiline": {"preset": "java", "timeout_ms": 600000}} if pending else {"format": "text"}
        contender = LogSidecar("log-sidecar", plain=True, entry=entry)
        output = os.path.join(logs, "out.jsonl")
        process = contender.start(os.path.join(logs, "*.log"), output, logs)
        # Read when the CPU has stopped moving for 2 s.
        last, still = -1.0, 0
        deadline = time.time() + 120
        while time.time() < deadline and still < 10:
            time.sleep(0.2)
            cpu, _, _ = proc_usage(process.pid)
            still = still + 1 if cpu - last < 0.001 else 0
            last = cpu
        cpu, peak, rss = proc_usage(process.pid)
        shipped = count_lines(output) if os.path.exists(output) else 0
        contender.stop(process)
        rows[label] = dict(files=files, rss_kib=rss, peak_rss_kib=peak, shipped=shipped)
    return rows


# ---------------------------------------------------------------- workloads

def make_data(path, size_mb, levels=("info", "warn", "debug"), email_every=0):
    """~200-byte JSON lines, each with its sequence number; an e-mail address in every
    `email_every`-th line when asked."""
    target = size_mb * 1024 * 1024
    if os.path.exists(path) and os.path.getsize(path) >= target:
        return count_lines(path)
    seq = 0
    with open(path, "w") as f:
        written = 0
        while written < target:
            block = []
            for _ in range(10000):
                email = ',"email":"user-%d@example.com"' % (seq % 977) if email_every and seq % email_every == 0 else ""
                block.append('{"ts":"2026-11-24T10:00:00.%03dZ","level":"%s","msg":"request served","seq":%d,'
                             '"user":{"id":%d,"name":"user-%d"},"path":"/api/v1/items/%d","status":200,"ms":%d.%d%s}\n'
                             % (seq % 1000, levels[seq % len(levels)], seq, seq % 977, seq % 977, seq % 100000,
                                seq % 250, seq % 10, email))
                seq += 1
            text = "".join(block)
            f.write(text)
            written += len(text)
    return seq


def make_filter_data(path, size_mb):
    """make_data's lines with five levels (two of them dropped by FILTER_SET) and an e-mail address in
    every other line. Returns (lines, lines FILTER_SET keeps)."""
    lines = make_data(path, size_mb, levels=("info", "warn", "debug", "error", "trace"), email_every=2)
    # debug is level 2 of 5, trace level 4.
    return lines, lines - (lines + 2) // 5 - lines // 5


def check_filtered(output, drop_only=False):
    """Whether the first 10,000 records show the filter set's work: no debug or trace, no path, no
    user.name, every e-mail masked (`drop_only`: only the first; path still there)."""
    with open(output) as f:
        for _, line in zip(range(10000), f):
            record = json.loads(line)
            email = record.get("email", "***@")
            if drop_only:
                wrong = record.get("level") in ("debug", "trace") or "path" not in record
            else:
                wrong = record.get("level") in ("debug", "trace") or "path" in record or "name" in record.get("user", {}) \
                    or not email.startswith("***@")
            if wrong:
                return "WRONG: " + line.strip()[:120]
    return "ok"


def catch_up(contender, data, lines, work, check=None):
    output = os.path.join(work, "out.jsonl")
    start = time.time()
    process = contender.start(data, output, work)
    last_size, stable_since, result = -1, time.time(), None
    deadline = start + 1800
    while time.time() < deadline:
        time.sleep(0.1)
        size = os.path.getsize(output) if os.path.exists(output) else 0
        if size == 0 and process.poll() is not None:
            with open(os.path.join(work, "stderr")) as f:
                return dict(error=f"exited {process.returncode} without output: {f.read()[-300:]}")
        if size != last_size:
            last_size, stable_since = size, time.time()
            continue
        if size > 0 and time.time() - stable_since > 2.0:
            got = count_lines(output)
            if got >= lines or process.poll() is not None or time.time() - stable_since > 20:
                cpu, peak, _ = proc_usage(process.pid) if process.poll() is None else (0, 0, 0)
                elapsed = os.stat(output).st_mtime - start
                result = dict(lines=got, seconds=elapsed, cpu_seconds=cpu, peak_rss_kib=peak)
                if check:
                    result["check"] = check(output)
                break
    contender.stop(process)
    if result is None:
        return dict(error="timed out")
    size_mb = os.path.getsize(data) / 1e6
    result.update(mb_per_s=size_mb / result["seconds"], lines_per_s=result["lines"] / result["seconds"],
                  complete=result["lines"] == lines)
    return result


def catch_up_cat(data, lines, work):
    output = os.path.join(work, "out.jsonl")
    with open(output, "w") as out:
        timed = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "cat", data], stdout=out, stderr=subprocess.PIPE, text=True)
    seconds, user, system, peak = timed.stderr.strip().splitlines()[-1].split()
    seconds = float(seconds)
    return dict(lines=lines, seconds=seconds, cpu_seconds=float(user) + float(system), peak_rss_kib=int(peak),
                mb_per_s=os.path.getsize(data) / 1e6 / seconds, lines_per_s=lines / seconds, complete=True)


GENERATOR = r"""
import json, sys
write = sys.stdout.write
for i in range(int(sys.argv[1])):
    write(json.dumps({"ts": "2026-11-24T10:00:00.%03dZ" % (i % 1000), "level": "info", "msg": "request served", "seq": i,
                      "user": {"id": i % 977, "name": "user-%d" % (i % 977)}, "path": "/api/v1/items/%d" % (i % 100000),
                      "status": 200, "ms": 12.5}) + "\n")
"""


def exec_mode(label, command, lines, work):
    """A child printing JSON lines as fast as it can: into the file itself, through `| cat >`, and
    through log-sidecar's exec mode into a file sink (merge mode, and plain: the stream field only).
    The child's own run time comes from /usr/bin/time around it; log-sidecar's CPU is its rusage
    minus the child's, its peak RSS its own VmHWM. MB/s are the child's bytes over the route's wall time."""
    output = os.path.join(work, "out.jsonl")
    child_time = os.path.join(work, "child.time")
    timed_child = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", child_time] + command

    def read_time(path):
        with open(path) as f:
            seconds, user, system, peak = f.read().strip().splitlines()[-1].split()
        return float(seconds), float(user) + float(system), int(peak)

    size = 0

    def row(total_seconds, child, shipper_cpu=None, shipper_peak=None):
        got = count_lines(output)
        result = dict(seconds=total_seconds, mb_per_s=size / 1e6 / total_seconds, child_seconds=child[0],
                      lines=got, complete=got == lines)
        if shipper_cpu is not None:
            result.update(cpu_seconds=shipper_cpu, peak_rss_kib=shipper_peak)
        os.remove(output)
        return result

    rows = {}
    with open(output, "w") as out:
        subprocess.run(timed_child, stdout=out, check=True)
    size = os.path.getsize(output)
    child = read_time(child_time)
    rows[f"{label} > file"] = row(child[0], child)

    shell_time = os.path.join(work, "shell.time")
    pipeline = shlex.join(timed_child) + " | cat > " + shlex.quote(output)
    subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", shell_time, "sh", "-c", pipeline], check=True)
    total, both_cpu, _ = read_time(shell_time)
    child = read_time(child_time)
    rows[f"{label} | cat > file"] = row(total, child, both_cpu - child[1], None)

    for name, plain in [(f"log-sidecar -- {label}", False), (f"log-sidecar (plain) -- {label}", True)]:
        config = os.path.join(work, "exec.json")
        with open(config, "w") as f:
            json.dump({"sinks": [{"type": "file", "path": output, "max_bytes": 1 << 40}]}, f)
        args = [BINARY, "--config", config, "--health-port", "0", "--log-level", "warning"]
        if plain:
            args += ["--enrich-host-field", "", "--enrich-timestamp-field", ""]
        total, all_cpu, peak = run_watched(args + ["--"] + timed_child)
        child = read_time(child_time)
        rows[name] = row(total, child, all_cpu - child[1], peak)
    return rows


def run_watched(args):
    """Runs a command to its end: wall seconds, CPU seconds (its own and its waited-for descendants'),
    and its own peak RSS in KiB (VmHWM, read until it exits: rusage's maxrss would be the largest
    descendant's, here the child's)."""
    start = time.time()
    process = subprocess.Popen(args)
    peak = 0
    while True:
        try:
            with open(f"/proc/{process.pid}/status") as f:
                status = f.read()
        except FileNotFoundError:
            break
        if "\nState:\tZ" in status:
            break
        match = re.search(r"VmHWM:\s+(\d+)", status)
        if match:
            peak = max(peak, int(match.group(1)))
        time.sleep(0.02)
    _, code, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(code)
    if process.returncode != 0:
        raise RuntimeError(f"{args[0]} exited {process.returncode}")
    return time.time() - start, usage.ru_utime + usage.ru_stime, peak


WRITER = r"""
import os, sys, time
path, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
start = time.time(); seq = 0
while True:
    elapsed = time.time() - start
    if elapsed >= seconds: break
    due = int(elapsed * rate)
    if due > seq:
        now = time.time_ns()
        os.write(fd, "".join('{"seq":%d,"t":%d,"msg":"latency probe","pad":"%s"}\n' % (n, now, "y" * 120) for n in range(seq, due)).encode())
        seq = due
    time.sleep(0.0005)
print(seq)
"""

PROBE = re.compile(rb'"seq":"?(\d+)"?,"t":"?(\d+)')


def follow_latency(contender, rate, seconds, work):
    data = os.path.join(work, "follow.log")
    output = os.path.join(work, "out.jsonl")
    open(data, "w").close()
    process = contender.start(data, output, work)
    time.sleep(1.5)  # start-up of the contender, before the measured stream begins
    writer = subprocess.Popen([sys.executable, "-c", WRITER, data, str(rate), str(seconds)], stdout=subprocess.PIPE, text=True)
    probes = watch_probes(output, writer)
    contender.stop(process)
    return dict(rate=rate, **probes)


def watch_probes(output, writer, position=0, at_writer_exit=lambda: None):
    """Reads OUTPUT from POSITION while WRITER runs (and up to 5 s after), timing each probe line from
    its write to its arrival: written, received, lost and the delay percentiles."""
    delays, seen, buffer, end_by, written = [], set(), b"", None, 0
    while True:
        if os.path.exists(output):
            with open(output, "rb") as f:
                f.seek(position)
                chunk = f.read()
            now = time.time_ns()
            position += len(chunk)
            buffer += chunk
            complete, _, buffer = buffer.rpartition(b"\n")
            for match in PROBE.finditer(complete):
                seq = int(match.group(1))
                if seq not in seen:
                    seen.add(seq)
                    delays.append((now - int(match.group(2))) / 1e6)
        if end_by is None and writer.poll() is not None:
            written = int(writer.stdout.read().strip())
            end_by = time.time() + 5
            at_writer_exit()
        if end_by is not None and (len(seen) >= written or time.time() > end_by):
            break
        time.sleep(0.0005)
    delays.sort()
    pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))] if delays else float("nan")
    return dict(written=written, received=len(seen), lost=written - len(seen),
                p50_ms=pick(0.50), p99_ms=pick(0.99), max_ms=delays[-1] if delays else float("nan"))


MANY_WRITER = r"""
import os, sys, time
paths, rate, seconds = sys.argv[1].split(","), int(sys.argv[2]), float(sys.argv[3])
fds = [os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) for p in paths]
start = time.time(); done = 0; seq = 0
while True:
    elapsed = time.time() - start
    if elapsed >= seconds: break
    due = int(elapsed * rate)
    if due > done:
        now = time.time_ns()
        for fd in fds:
            os.write(fd, "".join('{"seq":%d,"t":%d,"msg":"latency probe","pad":"%s"}\n' % (seq + n, now, "y" * 120) for n in range(due - done)).encode())
            seq += due - done
        done = due
    time.sleep(0.0005)
print(seq)
"""


def many_files(contender, files, busy, rate, idle_seconds, seconds, work):
    """FILES quiet files under one glob: idle cost first, then BUSY of them written at RATE lines/s
    each for SECONDS: write-to-output latency, CPU per second, RSS."""
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    for index in range(files):
        with open(os.path.join(logs, "f%04d.log" % index), "w") as f:
            f.write('{"msg":"only line","file":%d}\n' % index)
    output = os.path.join(work, "out.jsonl")
    process = contender.start(os.path.join(logs, "*.log"), output, work)
    deadline = time.time() + 60
    while time.time() < deadline and (not os.path.exists(output) or count_lines(output) < files):
        time.sleep(0.2)
    started = count_lines(output) if os.path.exists(output) else 0
    time.sleep(5)
    cpu0, _, _ = proc_usage(process.pid)
    time.sleep(idle_seconds)
    cpu1, _, idle_rss = proc_usage(process.pid)
    busy_paths = ",".join(os.path.join(logs, "f%04d.log" % index) for index in range(busy))
    writer = subprocess.Popen([sys.executable, "-c", MANY_WRITER, busy_paths, str(rate), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    usage = {}
    probes = watch_probes(output, writer, os.path.getsize(output), lambda: usage.update(zip(("cpu", "peak", "rss"), proc_usage(process.pid))))
    contender.stop(process)
    return dict(files=files, first_lines=started, idle_rss_kib=idle_rss, idle_cpu_percent=100 * (cpu1 - cpu0) / idle_seconds,
                busy=busy, rate_per_file=rate, busy_cpu_per_s=(usage["cpu"] - cpu1) / seconds, busy_rss_kib=usage["rss"],
                peak_rss_kib=usage["peak"], **probes)


def scrape(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).sendall(
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    except OSError:
        pass


def idle(contender, seconds, work, scrape_port=None, scrape_every=60, receiver_port=None, warmup=0):
    """A quiet one-line file for `seconds` after 5 s of start-up and `warmup` s more (the steady state
    of a daemon that has run for a while: its first scrape and trims behind it). Our health server
    (`scrape_port`) is scraped every `scrape_every` s through the warm-up and from the start of the
    window, as Prometheus would; RSS is sampled every 5 s (mean, last, highest) and CPU is what the
    process used in the window."""
    data = os.path.join(work, "quiet.log")
    with open(data, "w") as f:
        f.write('{"msg":"only line"}\n')
    process = contender.start(data, os.path.join(work, "out.jsonl"), work, **({"port": receiver_port} if receiver_port else {}))
    time.sleep(5)
    warm_until = time.monotonic() + warmup
    while (left := warm_until - time.monotonic()) > 0:
        if scrape_port:
            scrape(scrape_port)
        time.sleep(min(scrape_every, left))
    cpu0, _, _ = proc_usage(process.pid)
    started = time.monotonic()
    samples, next_scrape = [], started
    while (elapsed := time.monotonic() - started) < seconds:
        if scrape_port and time.monotonic() >= next_scrape:
            scrape(scrape_port)
            next_scrape += scrape_every
        time.sleep(min(5, seconds - elapsed))
        samples.append(proc_usage(process.pid)[2])
    cpu1, peak, rss = proc_usage(process.pid)
    contender.stop(process)
    return dict(seconds=seconds, cpu_seconds=cpu1 - cpu0, cpu_percent=100 * (cpu1 - cpu0) / seconds, rss_kib=rss,
                mean_rss_kib=sum(samples) / len(samples), max_rss_kib=max(samples), peak_rss_kib=peak)


class DiscardReceiver:
    """Benchmarks/peers/discard_http.py on a free port: the HTTP outputs' receiver in the idle runs."""

    def __enter__(self):
        self.work = os.path.join("/tmp", f"discard-{os.getpid()}")
        os.makedirs(self.work, exist_ok=True)
        port_file = os.path.join(self.work, "port")
        self.process = subprocess.Popen([sys.executable, os.path.join(HERE, "peers", "discard_http.py"), port_file])
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            time.sleep(0.05)
        self.port = int(open(port_file).read())
        return self

    def __exit__(self, *args):
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.work, ignore_errors=True)


def journald(records, work):
    script = os.path.join(HERE, "journald-bench.sh")
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", script, work, BINARY, str(records)],
                            capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        return dict(error=result.stderr[-500:])
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- main

def alternated_best(contenders, repeat, label, workdir, run):
    """Each contender `repeat` times, the order reversed every other round (this machine's speed
    drifts); for each, the round with the best MB/s. `run(contender, work)` gives (result, note)."""
    rows = {}
    for round_ in range(repeat):
        for contender in contenders if round_ % 2 == 0 else list(reversed(contenders)):
            print(f"{label}: {contender.name} ...", file=sys.stderr, flush=True)
            work = workdir(contender.name)
            result, note = run(contender, work)
            shutil.rmtree(work, ignore_errors=True)
            best = rows.get(contender.name)
            if best is None or ("mb_per_s" in result and result["mb_per_s"] > best.get("mb_per_s", 0)):
                rows[contender.name] = dict(result, note=note)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024, help="catch-up file size (default 1024)")
    parser.add_argument("--workloads", default="catchup,latency,idle,journald",
                        help="comma-separated: catchup, latency, idle, journald, manyfiles, exec, filters, multiline")
    parser.add_argument("--only", action="append", help="run only contenders whose name contains this")
    parser.add_argument("--latency-seconds", type=float, default=20)
    parser.add_argument("--latency-rates", default="1000,10000,50000", help="lines/s of the follow-latency runs")
    parser.add_argument("--latency-rounds", type=int, default=3, help="alternated rounds per rate")
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--idle-rounds", type=int, default=3, help="alternated rounds of the idle workload")
    parser.add_argument("--idle-warmup", type=float, default=0,
                        help="seconds each idle contender runs (ours scraped every 60 s) before the measured window")
    parser.add_argument("--idle-shapes", default="file,http", help="file: a quiet file; http: also the HTTP sinks' shape")
    parser.add_argument("--journald-records", type=int, default=200000)
    parser.add_argument("--many-files", type=int, default=1000, help="files in the many-files workload")
    parser.add_argument("--many-seconds", type=float, default=60, help="how long the busy files are written")
    parser.add_argument("--repeat", type=int, default=1, help="catch-up repetitions, contenders alternated")
    parser.add_argument("--data-dir", default=os.path.join(HERE, "data"))
    args = parser.parse_args()
    workloads = args.workloads.split(",")
    os.makedirs(args.data_dir, exist_ok=True)
    results_dir = os.path.join(HERE, "results")
    os.makedirs(results_dir, exist_ok=True)
    work_root = os.path.join(args.data_dir, "work")
    results = dict(host=socket.gethostname(), date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), cores=os.cpu_count())

    def workdir(name):
        path = os.path.join(work_root, re.sub(r"[^a-z0-9]+", "-", name.lower()))
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        return path

    chosen = contenders(args.only)
    if "catchup" in workloads:
        data = os.path.join(args.data_dir, f"catchup-{args.size_mb}mb.jsonl")
        lines = make_data(data, args.size_mb)
        subprocess.run(["cat", data], stdout=subprocess.DEVNULL)  # warm the page cache before the first contender
        rows = {}
        for round_ in range(args.repeat):
            order = [None] + chosen if round_ % 2 == 0 else list(reversed(chosen)) + [None]
            for contender in order:
                name = "cat" if contender is None else contender.name
                print(f"catch-up {args.size_mb} MB: {name} ...", file=sys.stderr, flush=True)
                work = workdir(name)
                result = catch_up_cat(data, lines, work) if contender is None else catch_up(contender, data, lines, work)
                shutil.rmtree(work, ignore_errors=True)
                best = rows.get(name)
                if best is None or ("mb_per_s" in result and result["mb_per_s"] > best.get("mb_per_s", 0)):
                    rows[name] = dict(result, note="physical limit" if contender is None else contender.note)
        results["catchup"] = dict(size_mb=args.size_mb, lines=lines, rows=rows)
        print_catchup(results["catchup"])

    if "filters" in workloads:
        data = os.path.join(args.data_dir, f"filters-{args.size_mb}mb.jsonl")
        lines, kept = make_filter_data(data, args.size_mb)
        subprocess.run(["cat", data], stdout=subprocess.DEVNULL)
        def run_filters(contender, work):
            filtered = contender.name.endswith(("(filters)", "(drop only)"))
            drop_only = contender.name.endswith("(drop only)")
            check = (lambda output: check_filtered(output, drop_only)) if filtered else None
            result = catch_up(contender, data, kept if filtered else lines, work, check=check)
            return result, contender.note + ("" if not filtered else "; check " + result.get("check", "?"))
        rows = alternated_best(filter_contenders(args.only), args.repeat, f"filters {args.size_mb} MB", workdir, run_filters)
        results["filters"] = dict(size_mb=args.size_mb, lines=lines, kept=kept, rows=rows)
        print_catchup(dict(size_mb=args.size_mb, lines=lines, rows=rows), title="Filters: %d MB, %d lines (%d kept by the set: drop level debug/trace, remove path and user.name, redact the e-mail's local part), to a file" % (args.size_mb, lines, kept))

    if "multiline" in workloads:
        data = os.path.join(args.data_dir, f"multiline-{args.size_mb}mb.log")
        if not os.path.exists(data):
            subprocess.run([sys.executable, backlog.__file__, "write", data, str(args.size_mb)], check=True, stdout=subprocess.DEVNULL)
        lines = count_lines(data)
        # Records: a trace (13 lines) every 50 records.
        records = lines - (lines // (49 + 13)) * 12
        subprocess.run(["cat", data], stdout=subprocess.DEVNULL)
        def run_multiline(contender, work):
            text = contender.name == "log-sidecar (text)"
            result = catch_up(contender, data, lines if text else records, work, check=check_lines if text else check_multiline)
            return result, contender.note + "; check " + result.get("check", "?")
        rows = alternated_best(multiline_contenders(args.only), args.repeat, f"multiline {args.size_mb} MB", workdir, run_multiline)
        results["multiline"] = dict(size_mb=args.size_mb, lines=lines, records=records, rows=rows)
        print_catchup(dict(size_mb=args.size_mb, lines=records, rows=rows),
                      title="Multiline: %d MB of log4j-style text, %d lines, %d records (a 13-line Java trace every 50), to a file"
                      % (args.size_mb, lines, records))
        print(f"multiline memory: {args.many_files} files ...", file=sys.stderr, flush=True)
        results["multiline_memory"] = pending_memory(args.many_files, workdir("multiline-memory"))
        print("\nMultiline memory: %d files, everything read" % args.many_files)
        for label, row in results["multiline_memory"].items():
            print("%-24s RSS %7.1f MiB  peak %7.1f MiB  shipped %d" % (label, row["rss_kib"] / 1024, row["peak_rss_kib"] / 1024, row["shipped"]))

    if "latency" in workloads:
        # One run is not enough to say anything (single runs showed 40-160 ms spikes for either
        # contender): every rate runs each contender once per round, the order reversed every other
        # round, and each contender's p99 is reported as the median of its rounds with their spread.
        rows = []
        followers = [c for c in chosen if "plain" not in c.name and "parse" not in c.name]
        for rate in (int(r) for r in args.latency_rates.split(",")):
            for round_ in range(args.latency_rounds):
                for contender in followers if round_ % 2 == 0 else list(reversed(followers)):
                    print(f"follow latency {rate}/s, round {round_ + 1}: {contender.name} ...", file=sys.stderr, flush=True)
                    work = workdir(contender.name)
                    rows.append(dict(follow_latency(contender, rate, args.latency_seconds, work), contender=contender.name, round=round_))
                    shutil.rmtree(work, ignore_errors=True)
        results["latency"] = rows
        print("\nFollow latency (write to output), %.0f s per rate; median of %d alternated rounds (lowest-highest)"
              % (args.latency_seconds, args.latency_rounds))
        print("%-24s %8s %6s %22s %22s %9s" % ("contender", "rate/s", "lost", "p50 ms", "p99 ms", "max ms"))
        for rate in sorted({row["rate"] for row in rows}):
            for contender in followers:
                runs = [row for row in rows if row["rate"] == rate and row["contender"] == contender.name]
                def spread(key):
                    values = sorted(run[key] for run in runs)
                    return "%.2f (%.2f-%.2f)" % (values[len(values) // 2], values[0], values[-1])
                print("%-24s %8d %6d %22s %22s %9.2f" % (contender.name, rate, sum(run["lost"] for run in runs), spread("p50_ms"),
                                                          spread("p99_ms"), max(run["max_ms"] for run in runs)))

    if "idle" in workloads:
        rows = {}
        baseline = [LogSidecar("log-sidecar (baseline, health on)", health=True, binary=BASELINE)] if BASELINE else []
        baseline_http = [LogSidecar("log-sidecar (baseline, clickhouse sink)", health=True, binary=BASELINE, http="clickhouse")] if BASELINE else []
        idlers = [LogSidecar("log-sidecar (health on)", health=True)] + baseline + [c for c in chosen if "splice" in c.name]
        if "http" in args.idle_shapes.split(","):
            idlers += [LogSidecar("log-sidecar (clickhouse sink)", health=True, http="clickhouse")] + baseline_http + [
                Rsyslog("rsyslog (omelasticsearch)", "rsyslog-elasticsearch.conf", False, "omelasticsearch to the same receiver")]
        with DiscardReceiver() as receiver:
            for round_ in range(args.idle_rounds):
                for contender in idlers if round_ % 2 == 0 else list(reversed(idlers)):
                    print(f"idle {args.idle_seconds:.0f} s, round {round_ + 1}: {contender.name} ...", file=sys.stderr, flush=True)
                    work = workdir(contender.name)
                    ours = isinstance(contender, LogSidecar)
                    rows.setdefault(contender.name, []).append(
                        idle(contender, args.idle_seconds, work, scrape_port=19990 if ours else None,
                             receiver_port=receiver.port, warmup=args.idle_warmup))
                    shutil.rmtree(work, ignore_errors=True)
        results["idle"] = rows
        print("\nIdle: a quiet file for %.0f s after %.0f s of warm-up, ours scraped every 60 s; medians of %d alternated rounds (their spread)"
              % (args.idle_seconds, args.idle_warmup, args.idle_rounds))
        print("%-40s %18s %18s %10s %16s" % ("contender", "mean RSS MiB", "last RSS MiB", "max MiB", "CPU ms/min"))
        for name, runs in rows.items():
            def spread(key, scale):
                values = sorted(run[key] * scale for run in runs)
                return "%.1f (%.1f-%.1f)" % (values[len(values) // 2], values[0], values[-1])
            print("%-40s %18s %18s %10.1f %16s" % (name, spread("mean_rss_kib", 1 / 1024), spread("rss_kib", 1 / 1024),
                  max(run["max_rss_kib"] for run in runs) / 1024, spread("cpu_seconds", 60_000 / args.idle_seconds)))

    if "manyfiles" in workloads:
        rows = {}
        many = [c for c in chosen if "plain" not in c.name and "parse" not in c.name and "splice" not in c.name] + [
            Rsyslog("rsyslog (imfile wildcard)", "rsyslog-wildcard.conf", False, "imfile, inotify mode, wildcard"),
            SyslogNG("syslog-ng (wildcard-file)", "syslog-ng-wildcard.conf", False, "wildcard-file(), max-files(5000)")]
        for contender in many:
            if "baseline" in contender.name:
                continue
            print(f"many files ({args.many_files}): {contender.name} ...", file=sys.stderr, flush=True)
            work = workdir(contender.name)
            rows[contender.name] = many_files(contender, args.many_files, 10, 1000, args.idle_seconds / 2, args.many_seconds, work)
            shutil.rmtree(work, ignore_errors=True)
        results["manyfiles"] = rows
        print("\nMany files: %d under one glob; idle %.0f s, then 10 of them at 1,000 lines/s each for %.0f s"
              % (args.many_files, args.idle_seconds / 2, args.many_seconds))
        print("%-26s %8s %9s %10s %9s %9s %9s %8s %8s" % ("contender", "first", "idle MiB", "idle CPU%", "busy MiB",
                                                         "CPU s/s", "lost", "p50 ms", "p99 ms"))
        for name, row in rows.items():
            print("%-26s %8d %9.1f %10.4f %9.1f %9.3f %9d %8.2f %8.2f" % (
                name, row["first_lines"], row["idle_rss_kib"] / 1024, row["idle_cpu_percent"], row["busy_rss_kib"] / 1024,
                row["busy_cpu_per_s"], row["lost"], row["p50_ms"], row["p99_ms"]))

    if "exec" in workloads:
        data = os.path.join(args.data_dir, f"catchup-{args.size_mb}mb.jsonl")
        lines = make_data(data, args.size_mb)
        subprocess.run(["cat", data], stdout=subprocess.DEVNULL)
        generated = args.size_mb * 1024 * 1024 // 4 // 230
        children = [("cat", ["cat", data], lines), ("python", ["python3", "-c", GENERATOR, str(generated)], generated)]
        rows = {}
        for label, command, count in children:
            print(f"exec mode: {label} ...", file=sys.stderr, flush=True)
            runs = [exec_mode(label, command, count, workdir("exec")) for _ in range(args.repeat)]
            # The best of the repetitions, per row: the same rule as catch-up.
            rows.update({name: max((run[name] for run in runs), key=lambda r: r["mb_per_s"]) for name in runs[0]})
        results["exec"] = dict(size_mb=args.size_mb, rows=rows)
        print("\nExec mode: a child printing JSON lines as fast as it can, into a file: cat of the %d MB file, and"
              " python json.dumps of %d records (a quarter of the size)" % (args.size_mb, generated))
        print("%-32s %9s %9s %10s %8s %9s %9s" % ("route", "MB/s", "seconds", "child s", "CPU s", "peak MiB", "complete"))
        for name, row in rows.items():
            print("%-32s %9.1f %9.2f %10.2f %8s %9s %9s" % (
                name, row["mb_per_s"], row["seconds"], row["child_seconds"],
                "%.2f" % row["cpu_seconds"] if row.get("cpu_seconds") is not None else "-",
                "%.1f" % (row["peak_rss_kib"] / 1024) if row.get("peak_rss_kib") else "-", row["complete"]))

    if "journald" in workloads:
        print(f"journald: {args.journald_records} records ...", file=sys.stderr, flush=True)
        results["journald"] = journald(args.journald_records, workdir("journald"))
        print("\njournald:", json.dumps(results["journald"]))

    with open(os.path.join(results_dir, "bench.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nresults: {os.path.join(results_dir, 'bench.json')}")


def print_catchup(catchup, title=None):
    rows = catchup["rows"]
    print("\n" + (title or "Catch-up: %d MB, %d lines of ~200 bytes, to a file on the same disk" % (catchup["size_mb"], catchup["lines"])))
    print("%-24s %9s %11s %8s %9s %9s %7s  %s" % ("contender", "MB/s", "lines/s", "CPU s", "CPU s/GiB", "peak MiB", "lines", "note"))
    gib = catchup["size_mb"] / 1024
    for name, row in rows.items():
        if "error" in row:
            print("%-24s %s" % (name, row["error"]))
            continue
        print("%-24s %9.1f %11.0f %8.2f %9.2f %9.1f %7s  %s" % (
            name, row["mb_per_s"], row["lines_per_s"], row["cpu_seconds"], row["cpu_seconds"] / gib,
            row["peak_rss_kib"] / 1024, "ok" if row["complete"] else "SHORT", row.get("note", "")))


if __name__ == "__main__":
    main()
