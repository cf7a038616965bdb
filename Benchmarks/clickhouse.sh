#!/usr/bin/env bash
# Catch-up of a JSON-lines file into a local ClickHouse table: log-sidecar's clickhouse sink (gzip and
# uncompressed) against syslog-ng's http() posting the same JSONEachRow rows (Benchmarks/peers/
# syslog-ng-clickhouse.conf; Benchmarks/install-peers.sh, plus syslog-ng-mod-http unpacked beside it).
# Reports rows/s, the shipper's CPU seconds and peak RSS, and ClickHouse's CPU over the same time.
#   Benchmarks/clickhouse.sh DATA.jsonl [BINARY]   (DATA: e.g. bench.py's filters-1024mb.jsonl)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=$1
bin=${2:-$here/../.build/release/log-sidecar}
work=$(mktemp -d /tmp/ch-bench.XXXXXX)
trap 'kill -9 $(cat "$work/ch.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
"$here/../Tests/LogSidecarTests/Fixtures/clickhouse-server.sh" "$work/clickhouse" "$port" > /dev/null 2>&1 &
echo $! > "$work/ch.pid"
url=http://127.0.0.1:$port
for _ in $(seq 1 300); do [ "$(curl -s "$url/ping")" = "Ok." ] && break; sleep 0.2; done
sng=$here/.peers/syslog-ng
if [ ! -f "$sng/usr/lib/syslog-ng/3.38/libhttp.so" ] && [ -d "$sng" ]; then
  (cd "$here/.peers" && apt-get download -qq syslog-ng-mod-http >/dev/null 2>&1 && dpkg -x syslog-ng-mod-http_*.deb syslog-ng)
fi
lines=$(wc -l < "$data")
query() { curl -sS --data-binary "$1" "$url/"; }

run() {  # NAME COMMAND...: runs the shipper until every row is in, then stops it
  local name=$1; shift
  query "DROP TABLE IF EXISTS default.bench" > /dev/null
  query "CREATE TABLE default.bench (ts String, level String, msg String, seq UInt64, path String, status UInt16, ms Float64, email String, host String, processed_at String) ENGINE = MergeTree ORDER BY seq"
  local chpid c0 c1 start end pid
  chpid=$(cat "$work/ch.pid")
  c0=$(awk '{print $14+$15}' "/proc/$chpid/stat")
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S %M" -o "$work/time" "$@" > /dev/null 2> "$work/$name.err" &
  pid=$!
  until [ "$(query "SELECT count() FROM default.bench")" -ge "$lines" ]; do
    kill -0 "$pid" 2>/dev/null || { echo "$name stopped early:"; tail -5 "$work/$name.err"; return; }
    sleep 0.2
  done
  end=$(date +%s.%N)
  c1=$(awk '{print $14+$15}' "/proc/$chpid/stat")
  pkill -TERM -P "$pid"; wait "$pid" || true
  local sample
  sample=$(query "SELECT host != '' AND processed_at != '' AND msg != '' FROM default.bench WHERE seq = 12345")
  read -r us sy rss < "$work/time"
  python3 - "$name" "$lines" "$start" "$end" "$us" "$sy" "$rss" "$c0" "$c1" "$sample" <<'P'
import sys
name, lines, start, end, us, sy, rss, c0, c1, sample = sys.argv[1:]
lines = int(lines); t = float(end) - float(start); cpu = float(us) + float(sy)
print(f"| {name} | {lines / t:,.0f} | {cpu:.1f} | {cpu / lines * 1e6:.2f} | {int(rss) / 1024:.1f} MiB | {(int(c1) - int(c0)) / 100:.1f} | {'ok' if sample.strip() == '1' else 'BAD ROW'} |")
P
}

echo "| shipper | rows/s | CPU s | CPU µs/row | peak RSS | ClickHouse CPU s | row check |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for compression in gzip none; do
  cat > "$work/sidecar-$compression.json" <<J
{"input": {"path": "$data", "checkpoint_path": "$work/state-$compression/checkpoint.json"}, "health": {"port": 0},
 "sinks": [{"type": "http", "format": "clickhouse", "url": "$url", "table": "bench", "compression": "$compression"}]}
J
  run "log-sidecar ($compression)" "$bin" --config "$work/sidecar-$compression.json" --log-level warning
done
if [ -f "$sng/usr/lib/syslog-ng/3.38/libhttp.so" ]; then
  sed -e "s|@INPUT@|$data|" -e "s|@URL@|$url|" "$here/peers/syslog-ng-clickhouse.conf" > "$work/syslog-ng.conf"
  LD_LIBRARY_PATH=$sng/usr/lib/syslog-ng run "syslog-ng http()" "$sng/usr/sbin/syslog-ng" -F -f "$work/syslog-ng.conf" --no-caps \
    --module-path "$sng/usr/lib/syslog-ng/3.38" --persist-file="$work/syslog-ng.persist" \
    --pidfile="$work/syslog-ng.pid" --control="$work/syslog-ng.ctl"
fi
