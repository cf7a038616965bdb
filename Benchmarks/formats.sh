#!/usr/bin/env bash
# Catch-up of a JSON-lines file through each HTTP format into a receiver that discards
# (Benchmarks/peers/discard_http.py), ndjson first as the yardstick: what the encoders cost.
# Reports records/s, the shipper's CPU seconds, CPU per record and peak RSS, and each rate as a share
# of ndjson's in the same run.
#   Benchmarks/formats.sh DATA.jsonl [BINARY] [COMPRESSION...]   (DATA: e.g. bench.py's filters-1024mb.jsonl)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=$1
bin=${2:-$here/../.build/release/log-sidecar}
shift $(( $# >= 2 ? 2 : 1 ))
compressions=("${@:-none gzip}")
work=$(mktemp -d /tmp/formats-bench.XXXXXX)
trap 'kill -9 $(cat "$work/receiver.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 "$here/peers/discard_http.py" "$work/port" & echo $! > "$work/receiver.pid"
for _ in $(seq 1 100); do [ -f "$work/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$work/port")
lines=$(wc -l < "$data")
health_port=$((20000 + RANDOM % 20000))
# Polled with curl and awk: a Python start every poll took a quarter of a core from the run.
written() { curl -s "http://127.0.0.1:$health_port/metrics" | awk '/^log_sidecar_records_written_total/ { n += $2 } END { print n + 0 }'; }

# One catch-up: sets rate, cpu (seconds) and rss (KiB).
run() {
  local variant=$1 compression=$2 format=${1%+*} extra=""
  [ "$variant" = "otlp+protobuf" ] && extra=', "encoding": "protobuf"'
  rm -rf "$work/state"
  cat > "$work/config.json" <<J
{"input": {"path": "$data", "checkpoint_path": "$work/state/checkpoint.json"}, "health": {"port": $health_port},
 "sinks": [{"type": "http", "format": "$format", "url": "$url", "compression": "$compression"$extra}]}
J
  local start end pid us sy
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S %M" -o "$work/time" "$bin" --config "$work/config.json" --log-level warning > /dev/null 2> "$work/err" &
  pid=$!
  until [ "$(written)" -ge "$lines" ]; do
    kill -0 "$pid" 2>/dev/null || { echo "$variant stopped early:"; tail -5 "$work/err"; exit 1; }
    sleep 0.2
  done
  end=$(date +%s.%N)
  pkill -TERM -P "$pid"; wait "$pid" || true
  read -r us sy rss < "$work/time"
  rate=$(python3 -c "print($lines / ($end - $start))")
  cpu=$(python3 -c "print($us + $sy)")
}

row() {  # variant compression rate cpu rss base
  python3 -c "
lines, rate, cpu, rss, base = $lines, $3, $4, $5, $6
print(f'| $1 | $2 | {rate:,.0f} | {cpu:.1f} | {cpu / lines * 1e6:.2f} | {rss / 1024:.1f} MiB | {rate / base:.2f} |')"
}

# This machine's speed drifts by a third within minutes: each format is measured between two ndjson
# runs and compared with their mean, so the share is of ndjson's rate at the same time.
echo "| format | compression | records/s | CPU s | CPU µs/record | peak RSS | rate vs ndjson (the runs around it) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for compression in ${compressions[*]}; do
  run ndjson "$compression"
  before=$rate
  row ndjson "$compression" "$rate" "$cpu" "$rss" "$rate"
  for variant in otlp otlp+protobuf loki elasticsearch; do
    run "$variant" "$compression"
    read -r frate fcpu frss <<< "$rate $cpu $rss"
    run ndjson "$compression"
    row "$variant" "$compression" "$frate" "$fcpu" "$frss" "($before + $rate) / 2"
    before=$rate
  done
done
