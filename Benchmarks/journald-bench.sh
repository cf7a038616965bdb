#!/usr/bin/env bash
# Records per second from log-sidecar into a real, private systemd-journald (rate limit off).
# Run as root inside `unshare --mount --propagation private`: journald-bench.sh WORK BINARY RECORDS
# Prints one JSON line: records, seconds, records_per_s, journal_entries, peak_rss_kib, cpu_seconds.
set -euo pipefail
work=$1 binary=$2 records=$3
journald=$("$(dirname "$0")/../scripts/private-journald.sh" "$work")
python3 - "$work/in.jsonl" "$records" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    for i in range(n):
        f.write('{"ts":"2026-11-24T10:00:00.000Z","level":"%s","msg":"request served","seq":%d,"user":{"id":%d},"path":"/api/v1/items/%d","status":200}\n'
                % (("info", "warn", "error")[i % 3], i, i % 977, i % 100000))
PY
start=$(date +%s.%N)
"$binary" --input-path "$work/in.jsonl" --input-checkpoint-path "$work/cp.json" --health-address 127.0.0.1 \
  --health-port 19991 --sinks journald --log-level warning > /dev/null 2> "$work/stderr" &
pid=$!
written=0
for _ in $(seq 1 6000); do
  # Until the health server is up, curl fails: that is "nothing yet", not the end of the benchmark.
  written=$(curl -s 127.0.0.1:19991/metrics | awk '/^log_sidecar_records_written_total/ {print $2}' || true)
  [ "${written:-0}" -ge "$records" ] && break
  sleep 0.05
done
end=$(date +%s.%N)
read -r cpu peak < <(awk '{printf "%.2f ", ($14+$15)/100}' /proc/$pid/stat; awk '/VmHWM/ {print $2}' /proc/$pid/status)
kill -TERM "$pid"; wait "$pid" || true
entries=$(journalctl -q -o cat -t log-sidecar | wc -l)
kill "$journald"; wait "$journald" 2>/dev/null || true
python3 -c "import json,sys; r,s,e,c,p=int(sys.argv[1]),float(sys.argv[2])-float(sys.argv[3]),int(sys.argv[4]),float(sys.argv[5]),int(sys.argv[6]); print(json.dumps(dict(records=r,seconds=round(s,2),records_per_s=round(r/s),journal_entries=e,cpu_seconds=c,peak_rss_kib=p)))" \
  "$written" "$end" "$start" "$entries" "$cpu" "$peak"
