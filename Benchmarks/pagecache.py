#!/usr/bin/env python3
"""Catch-up from the page cache into tmpfs, where neither the disk nor the network sets the pace: what
the per-line work costs. Contenders alternate in every round, each against `cat` in the same round:
  file   log-sidecar following the file (from its start) into a file sink on /dev/shm; timed from
         start until /metrics counts every record written (polled every 10 ms)
  exec   log-sidecar running `cat FILE` as its child (exec mode) into the same sink; timed to its exit
  cat    `cat FILE > /dev/shm/...`        pipe  `cat FILE | cat > /dev/shm/...` (exec mode's yardstick)
Usage: Benchmarks/pagecache.py [--size-mb 512] [--rounds 3] [--routes file,exec] [LABEL=BINARY ...]
(default: log-sidecar=.build/release/log-sidecar). Prints each round and the medians: MB/s, CPU
seconds per GB, and the ratio to cat's (file) or to the pipe's (exec) MB/s in the same round.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

SHM = "/dev/shm/log-sidecar-pagecache"
PORT = 18571


def records_written():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=1) as response:
            for line in response.read().decode().splitlines():
                if line.startswith("log_sidecar_records_written_total"):
                    return int(line.split()[-1])
    except OSError:
        pass
    return -1


def fresh_work():
    shutil.rmtree(SHM, ignore_errors=True)
    os.makedirs(SHM)
    config = os.path.join(SHM, "config.json")
    with open(config, "w") as f:
        json.dump({"sinks": [{"type": "file", "path": os.path.join(SHM, "out.jsonl"), "max_bytes": 1 << 40}]}, f)
    return config


def run_sidecar(binary, route, data, lines):
    config = fresh_work()
    args = [binary, "--config", config, "--input-checkpoint-path", os.path.join(SHM, "checkpoint.json"), "--log-level", "warning"]
    if route == "exec":
        # Timed to the daemon's exit; its CPU and its child's (cat), as the pipe's figure includes both cats.
        return timed_run(args + ["--health-port", "0", "--", "cat", data])
    start = time.perf_counter()
    process = subprocess.Popen(args + ["--health-port", str(PORT), "--input-path", data], stdout=subprocess.DEVNULL)
    deadline = start + 1800
    while time.perf_counter() < deadline:
        if records_written() >= lines:
            break
        if process.poll() is not None:
            sys.exit(f"{binary} exited {process.returncode}")
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    cpu = bench.proc_usage(process.pid)[0]
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    return seconds, cpu


def timed_run(argv):
    """Runs argv to its end: wall seconds, and the CPU seconds of it and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, timeout=1800)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def run_shell(command):
    fresh_work()
    return timed_run(["sh", "-c", command])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--routes", default="file,exec")
    parser.add_argument("binaries", nargs="*", default=[f"log-sidecar={bench.BINARY}"])
    args = parser.parse_args()
    routes = args.routes.split(",")
    binaries = [tuple(item.split("=", 1)) for item in args.binaries]
    data = os.path.join(bench.HERE, "data", f"catchup-{args.size_mb}mb.jsonl")
    os.makedirs(os.path.dirname(data), exist_ok=True)
    lines = bench.make_data(data, args.size_mb)
    megabytes = os.path.getsize(data) / 1e6
    subprocess.run(["cat", data], stdout=subprocess.DEVNULL)
    out = os.path.join(SHM, "out.jsonl")
    results = {}
    for round_ in range(args.rounds):
        contenders = [("cat", "file", None), ("cat | cat", "exec", None)] + [(label, route, binary) for label, binary in binaries for route in routes]
        if round_ % 2:
            contenders.reverse()
        for label, route, binary in contenders:
            if binary is None and route not in routes:
                continue
            if binary is None:
                command = f"cat {data} > {out}" if route == "file" else f"cat {data} | cat > {out}"
                seconds, cpu = run_shell(command)
            else:
                seconds, cpu = run_sidecar(binary, route, data, lines)
            results.setdefault((label, route), []).append((megabytes / seconds, cpu / megabytes * 1000))
            print(f"round {round_ + 1}: {label:24s} {route:5s} {megabytes / seconds:8.1f} MB/s  {cpu / megabytes * 1000:6.2f} CPU s/GB",
                  flush=True)
    shutil.rmtree(SHM, ignore_errors=True)
    print(f"\n{megabytes:.0f} MB, {lines:,d} lines, {args.rounds} rounds; medians")
    for (label, route), rows in results.items():
        speed = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        reference = results.get(("cat", "file") if route == "file" else ("cat | cat", "exec"))
        ratio = ""
        if reference and label not in ("cat", "cat | cat"):
            per_round = [mine[0] / theirs[0] for mine, theirs in zip(rows, reference)]
            ratio = f"  {statistics.median(per_round):.2f} of {'cat' if route == 'file' else 'cat | cat'} (rounds {', '.join(f'{r:.2f}' for r in per_round)})"
        print(f"{label:24s} {route:5s} {speed:8.1f} MB/s  {cpu:6.2f} CPU s/GB{ratio}")


if __name__ == "__main__":
    main()
