#!/usr/bin/env python3
"""Writes scripts/idle-order.txt: the functions an idle daemon runs, in the order the release link lays
them out (scripts/build-release.sh passes the file to the linker as its section ordering).

Why: the kernel maps 64 KiB around every page of code a process touches, and a quiet daemon's few
hundred functions are spread over the 13 MB binary, so the quiet loop and a scrape keep 2-3 MiB of code
resident; gathered at the start of the text they fit in a few of those windows (Benchmarks/README.md,
"Footprint").

How: a release binary (built with function sections, as scripts/build-release.sh does) runs under
callgrind with instrumentation off until it is up, following a quiet file into a file sink and an HTTP
sink (Benchmarks/peers/discard_http.py). Each phase is dumped apart: quiet seconds, more quiet
seconds, a scrape of /metrics and /health, a second scrape, a line, a second line. The file lists the
functions of the second quiet phase first (what every quiet second runs, packed in as few pages as it
can be), then those a second scrape or line runs again, then those only the first of each ran
(one-time set-up of the health server and the sinks, a type's first use). Names the binary no longer
has are ignored by the linker, so a stale file costs layout, never a build; run this again after changes to the quiet loop, the health server or
the sinks.

Usage: scripts/idle-order.py [BINARY]   (valgrind and curl; BINARY defaults to the release build)"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))
import bench  # noqa: E402  (its DiscardReceiver: Benchmarks/peers/discard_http.py on a free port)
# The layout's order: what every quiet second runs (the second quiet phase: by then the first quiet
# phase has done what runs once, such as a generic type's first instantiation), what a scrape or a line
# runs again, then what only the first of each ran.
PHASES = ["quiet2", "scrape2", "line2", "quiet1", "scrape1", "line1"]


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    sys.exit(f"idle-order: {what} did not happen within {seconds} s")


def healthy(port):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).status == 200
    except OSError:
        return False


def functions(dump, binary):
    """The functions of `binary` with a cost in one callgrind dump, by their symbol names
    (--demangle=no); the shared libraries' are not ours to lay out."""
    names, objects, found, current = {}, {}, [], None
    with open(dump) as f:
        for line in f:
            match = re.match(r"^(c?ob)=\((\d+)\)(?: (.*))?$", line.strip())
            if match:
                kind, index, name = match.groups()
                if name:
                    objects[index] = name
                if kind == "ob":
                    current = objects[index]
                continue
            # Names are compressed: "(12) name" the first time, in a callee line (cfn) as often as not.
            match = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line.strip())
            if not match:
                continue
            kind, index, name = match.groups()
            if name:
                names[index] = name
            if kind == "cfn":
                continue
            # Callgrind marks the levels of a recursion as name'2; addresses stand for unnamed code.
            symbol = names[index].split("'")[0]
            if current == binary and not symbol.startswith("0x"):
                found.append(symbol)
    return found


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/x86_64-unknown-linux-gnu/release/log-sidecar")
    with tempfile.TemporaryDirectory() as work, bench.DiscardReceiver() as receiver:
        # valgrind 3.19 cannot read this toolchain's DWARF 5; the symbol table is what it needs.
        stripped = os.path.join(work, "log-sidecar")
        subprocess.run(["strip", "--strip-debug", "-o", stripped, binary], check=True)
        receiver_port = receiver.port
        # The input alone in its directory: the sink's and the checkpoint's writes elsewhere do not wake the
        # directory's watch, which would put a rescan among the quiet second's functions.
        os.makedirs(os.path.join(work, "input"))
        data = os.path.join(work, "input", "quiet.log")
        with open(data, "w") as f:
            f.write('{"msg":"first"}\n')
        config = os.path.join(work, "config.json")
        with open(config, "w") as f:
            json.dump({"sinks": [{"type": "file", "path": os.path.join(work, "out.jsonl")},
                                 {"type": "http", "format": "clickhouse", "table": "logs",
                                  "url": f"http://127.0.0.1:{receiver_port}/"}]}, f)
        port = 19989
        out = os.path.join(work, "callgrind.out")
        daemon = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--demangle=no", f"--callgrind-out-file={out}",
             stripped, "--config", config, "--input-path", data, "--input-checkpoint-path", os.path.join(work, "checkpoint.json"),
             "--health-port", str(port), "--health-address", "127.0.0.1", "--log-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "valgrind.log"), "w"))
        try:
            wait_for(lambda: healthy(port), 120, "the daemon's start")
            wait_for(lambda: os.path.exists(os.path.join(work, "out.jsonl")) and os.path.getsize(os.path.join(work, "out.jsonl")) > 0,
                     60, "the first line's delivery")
            # Start-up's own trims and checkpoint are over after the trimmer's first look (10 s).
            time.sleep(12)
            control = ["callgrind_control", str(daemon.pid)]
            subprocess.run(control + ["-i", "on"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            dumps = {}

            def phase(name, action, seconds):
                action()
                time.sleep(seconds)
                subprocess.run(control + ["-d"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                dumps[name] = len(dumps) + 1

            def scrape():
                for path in ("/metrics", "/health"):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30).read()

            lines = iter(range(2, 10))

            def line():
                with open(data, "a") as f:
                    f.write('{"msg":"line %d"}\n' % next(lines))

            phase("quiet1", lambda: None, 8)
            phase("quiet2", lambda: None, 12)  # one of the trimmer's looks (every 10 s) at least
            phase("scrape1", scrape, 2)
            phase("scrape2", scrape, 2)
            phase("line1", line, 3)
            phase("line2", line, 3)
        finally:
            daemon.terminate()
            daemon.wait()
        found = {name: functions(f"{out}.{number}", stripped) for name, number in dumps.items()}
        ordered = list(dict.fromkeys(symbol for phase in PHASES for symbol in found[phase]))
    with open(os.path.join(HERE, "idle-order.txt"), "w") as f:
        f.write("".join(f".text.{symbol}\n" for symbol in ordered))
    # SwiftPM does not know the link reads this file: an unchanged program is not linked again.
    print("idle-order: remove the release binary before building it, or the old layout stays", file=sys.stderr)
    print(f"idle-order: {len(ordered)} functions ({', '.join(f'{p} {len(found[p])}' for p in PHASES)})")


if __name__ == "__main__":
    main()
