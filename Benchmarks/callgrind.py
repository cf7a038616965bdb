#!/usr/bin/env python3
"""Instructions of log-sidecar's hot path, counted by callgrind: repeatable where the machine's speed
drifts by a third within minutes. The same 30 MB of bench.py's JSON lines through four routes:
  plain    a file into a file sink, no enrichment fields (scan, validate, splice)
  merge    the same with host and processed_at (merge mode)
  filters  merge with bench.py's filter set (drop, remove two fields, one nested, redact)
  exec     exec mode: `cat` of the file as the child, merge mode, into a file sink
  ndjson   merge mode into an HTTP sink, format ndjson, uncompressed, posted to peers/discard_http.py
  otlp     the same with format otlp (JSON encoding): what taking records apart costs beside ndjson
  loki     the same with format loki (its default labels)
  otlp-protobuf  the same with format otlp in protobuf (OTLP's canonical encoding)
Usage: Benchmarks/callgrind.py [--binary PATH] [--size-mb 30] [--profiles DIR] [--cpu-time] [ROUTE ...]
(default: the first four routes)
Prints one line per route: its name, the instructions (callgrind's total) and the lines shipped; then
filters/merge and otlp/ndjson where both ran (issue 28's targets: 1.5 and 2).
--profiles keeps each route's callgrind output as DIR/ROUTE.callgrind, for callgrind_annotate.
--filters NAMES runs the filters route with some of the set, to tell what each filter costs: a comma-
separated list of drop, remove, redact (bench.py's three, the default all of them), remove-key (remove
"path" alone) and remove-nested (remove "user.name" alone), applied in the order given.
--cpu-time runs the same routes natively under /usr/bin/time instead, and prints the shipper's user
and system CPU seconds: whether the instructions removed show as time (use --size-mb 300 or more,
alternate the binaries and repeat: single runs differ by a fifth here).
Build first: scripts/build-release.sh
The binary is measured as a copy without its debug information (valgrind 3.19 cannot read that of a
statically linked Swift binary and gives up); its symbols stay, so the profiles name the functions.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import socket
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

ROUTES = ("plain", "merge", "filters", "exec")
# bench.py's filter set by name, and its remove filter's two fields one at a time.
FILTERS = {
    "drop": bench.FILTER_SET[0],
    "remove": bench.FILTER_SET[1],
    "redact": bench.FILTER_SET[2],
    "remove-key": {"type": "remove", "fields": ["path"]},
    "remove-nested": {"type": "remove", "fields": ["user.name"]},
}
HTTP_ROUTES = ("ndjson", "otlp", "loki", "otlp-protobuf")


def http_written(port):
    """Records the HTTP sink has had acknowledged, from /metrics; 0 while the server is not up."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return 0
    return sum(int(float(line.split()[-1])) for line in text.splitlines() if line.startswith("log_sidecar_records_written_total"))


def run(route, binary, data, expected, work, profiles=None, cpu_time=False, filters=None):
    output = os.path.join(work, "out.jsonl")
    config = os.path.join(work, "config.json")
    settings = {"sinks": [{"type": "file", "path": output, "max_bytes": 1 << 40}]}
    health_port = 0
    receiver = None
    if route in HTTP_ROUTES:
        port_file = os.path.join(work, "receiver-port")
        receiver = subprocess.Popen([sys.executable, os.path.join(bench.HERE, "peers", "discard_http.py"), port_file])
        deadline = time.time() + 30
        while time.time() < deadline and not os.path.exists(port_file):
            time.sleep(0.1)
        with open(port_file) as f:
            url = "http://127.0.0.1:" + f.read().strip()
        sink = {"type": "http", "format": route, "url": url, "compression": "none"}
        if route == "otlp-protobuf":
            sink.update(format="otlp", encoding="protobuf")
        settings = {"sinks": [sink]}
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            health_port = probe.getsockname()[1]
    if route == "filters":
        settings["filters"] = bench.FILTER_SET if filters is None else filters
    with open(config, "w") as f:
        json.dump(settings, f)
    args = [binary, "--config", config, "--input-checkpoint-path", os.path.join(work, "checkpoint.json"),
            "--health-port", str(health_port), "--log-level", "warning"]
    if route == "plain":
        args += ["--enrich-host-field", "", "--enrich-timestamp-field", ""]
    args += ["--", "cat", data] if route == "exec" else ["--input-path", data]
    profile = os.path.join(work, "callgrind.out")
    wrapper = (["/usr/bin/time", "-f", "%U %S", "-o", profile] if cpu_time else
               ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + profile])
    process = subprocess.Popen(wrapper + args, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "stderr"), "w"))
    if route != "exec":
        # A follower never ends by itself: stopped once everything arrived (bounded).
        deadline = time.time() + 1800
        while time.time() < deadline and (http_written(health_port) < expected if receiver else
                                          not os.path.exists(output) or bench.count_lines(output) < expected):
            if process.poll() is not None:
                sys.exit(f"{route}: the run ended early; see {work}/stderr:\n" + open(os.path.join(work, "stderr")).read()[-2000:])
            time.sleep(1)
        # Valgrind runs the shipper in its own process; time runs it as a child, and would die of the signal.
        children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        for pid in children if cpu_time else [str(process.pid)]:
            os.kill(int(pid), signal.SIGTERM)
    process.wait(timeout=1800)
    if receiver:
        receiver.kill()
        receiver.wait()
        shipped = expected
    else:
        shipped = bench.count_lines(output)
        os.remove(output)
    if cpu_time:
        with open(profile) as f:
            user, system = (float(field) for field in f.read().split()[-2:])
        return (user, system), shipped
    if profiles:
        shutil.copy(profile, os.path.join(profiles, f"{route}.callgrind"))
    with open(profile) as f:
        total = next(int(line.split()[1]) for line in f if line.startswith(("summary:", "totals:")))
    return total, shipped


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=bench.BINARY)
    parser.add_argument("--size-mb", type=int, default=30)
    parser.add_argument("--profiles", help="a directory to keep each route's callgrind output in")
    parser.add_argument("--cpu-time", action="store_true", help="CPU seconds of a native run instead of instructions")
    parser.add_argument("--filters", help="the filters route with these of the set, comma-separated: " + ", ".join(FILTERS))
    parser.add_argument("routes", nargs="*", default=list(ROUTES), choices=ROUTES + HTTP_ROUTES)
    args = parser.parse_args()
    filters = None
    if args.filters:
        names = args.filters.split(",")
        unknown = [name for name in names if name not in FILTERS]
        if unknown:
            parser.error(f"--filters: no filter called {', '.join(unknown)} (there are {', '.join(FILTERS)})")
        filters = [FILTERS[name] for name in names]
    data_dir = os.path.join(bench.HERE, "data")
    os.makedirs(data_dir, exist_ok=True)
    data = os.path.join(data_dir, f"callgrind-{args.size_mb}mb.jsonl")
    # The filter set's data (five levels, an e-mail in every other line) serves every route.
    lines, kept = bench.make_filter_data(data, args.size_mb)
    totals = {}
    for route in args.routes:
        with tempfile.TemporaryDirectory() as work:
            binary = os.path.join(work, "log-sidecar")
            subprocess.run(["strip", "--strip-debug", "-o", binary, args.binary], check=True)
            # Only the drop filter takes records away.
            drops = route == "filters" and (filters is None or FILTERS["drop"] in filters)
            total, shipped = run(route, binary, data, kept if drops else lines, work, args.profiles, args.cpu_time, filters)
        if args.cpu_time:
            print(f"{route:8s} user {total[0]:.2f} s  system {total[1]:.2f} s  {shipped:,d} lines", flush=True)
        else:
            print(f"{route:8s} {total:>14,d} instructions  {shipped:,d} lines", flush=True)
            totals[route] = total
    # Issue 28's two ratios in instructions, where both routes ran (the whole filter set only).
    for route, base, target in (("filters", "merge", 1.5), ("otlp", "ndjson", 2.0)):
        if route in totals and base in totals and not (route == "filters" and filters is not None):
            print(f"{route}/{base} {totals[route] / totals[base]:.2f} (target {target})")


if __name__ == "__main__":
    main()
