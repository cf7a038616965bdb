#!/usr/bin/env bash
# Catch-up of a JSON-lines file into a local ClickHouse table: log-sidecar's clickhouse sink (gzip and
# uncompressed) against syslog-ng's http() posting the same JSONEachRow rows (Benchmarks/peers/
# syslog-ng-clickhouse.conf; Benchmarks/install-peers.sh, plus syslog-ng-mod-http unpacked beside it).
# Reports rows/s, the shipper's CPU seconds and peak RSS, and ClickHouse's CPU over the same time, for
# each of ROUNDS rounds (default 3) with the contenders' order reversed every other round, then each
# contender's median and, round by round, ours against syslog-ng's: rows/s and ClickHouse's CPU per row.
#   [ROUNDS=3] Benchmarks/clickhouse.sh DATA.jsonl [BINARY]   (DATA: e.g. bench.py's filters-1024mb.jsonl)
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
events="('InsertQuery','InsertedRows','MergedRows','Merge','DelayedInserts','DelayedInsertsMilliseconds','MergeTreeDataWriterBlocks','RejectedInserts')"
query() { curl -sS --data-binary "$1" "$url/"; }

run() {  # NAME COMMAND...: runs the shipper until every row is in, then stops it
  local name=$1; shift
  query "DROP TABLE IF EXISTS default.bench" > /dev/null
  query "CREATE TABLE default.bench (ts String, level String, msg String, seq UInt64, path String, status UInt16, ms Float64, email String, host String, processed_at String) ENGINE = MergeTree ORDER BY seq"
  local chpid c0 c1 c2 start end settled pid
  chpid=$(cat "$work/ch.pid")
  c0=$(awk '{print $14+$15}' "/proc/$chpid/stat")
  events0=$(query "SELECT groupArray((event, value)) FROM system.events WHERE event IN $events")
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S %M" -o "$work/time" "$@" > /dev/null 2> "$work/$name.err" &
  pid=$!
  until [ "$(query "SELECT count() FROM default.bench")" -ge "$lines" ]; do
    kill -0 "$pid" 2>/dev/null || { echo "$name stopped early:"; tail -5 "$work/$name.err"; return; }
    sleep 0.2
  done
  end=$(date +%s.%N)
  c1=$(awk '{print $14+$15}' "/proc/$chpid/stat")
  # What ClickHouse did for these rows: inserts, parts written and merged, inserts it delayed.
  events1=$(query "SELECT groupArray((event, value)) FROM system.events WHERE event IN $events")
  python3 - "$events0" "$events1" "$name" >> "$work/events.txt" <<'P'
import ast, sys
before, after = (dict(ast.literal_eval(text.strip() or "[]")) for text in sys.argv[1:3])
print(sys.argv[3] + ": " + ", ".join(f"{key} {after.get(key, 0) - before.get(key, 0):,}" for key in sorted(after)))
P
  pkill -TERM -P "$pid"; wait "$pid" || true
  # The merges these inserts cause go on after the last row is in, more or fewer of them inside the
  # window depending on how fast the rows came: ClickHouse's CPU is also read once the table has
  # settled (no merge running, the same active parts for 3 s; bounded), the whole cost of the rows.
  local parts previous="" stable=0
  for _ in $(seq 1 600); do
    parts=$(query "SELECT (SELECT count() FROM system.merges WHERE table = 'bench'), (SELECT count() FROM system.parts WHERE table = 'bench' AND active)")
    if [ "${parts%%[[:space:]]*}" = "0" ] && [ "$parts" = "$previous" ]; then stable=$((stable + 1)); else stable=0; fi
    [ "$stable" -ge 15 ] && break
    previous=$parts
    sleep 0.2
  done
  c2=$(awk '{print $14+$15}' "/proc/$chpid/stat")
  settled=$(date +%s.%N)
  local sample
  sample=$(query "SELECT host != '' AND processed_at != '' AND msg != '' FROM default.bench WHERE seq = 12345")
  read -r us sy rss < "$work/time"
  python3 - "$name" "$lines" "$start" "$end" "$us" "$sy" "$rss" "$c0" "$c1" "$sample" "$c2" "$settled" <<'P'
import sys
name, lines, start, end, us, sy, rss, c0, c1, sample, c2, settled = sys.argv[1:]
lines = int(lines); t = float(end) - float(start); cpu = float(us) + float(sy)
print(f"| {name} | {lines / t:,.0f} | {cpu:.1f} | {cpu / lines * 1e6:.2f} | {int(rss) / 1024:.1f} MiB | {(int(c1) - int(c0)) / 100:.1f} "
      f"| {(int(c2) - int(c0)) / 100:.1f} in {float(settled) - float(start):.0f} s | {'ok' if sample.strip() == '1' else 'BAD ROW'} |")
P
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$lines" "$(python3 -c "print(float('$end') - float('$start'))")" \
    "$(python3 -c "print(float('$us') + float('$sy'))")" "$rss" "$(( c1 - c0 ))" "$sample" "$(( c2 - c0 ))" >> "$work/results.tsv"
}

ours() {  # COMPRESSION
  cat > "$work/sidecar-$1.json" <<J
{"input": {"path": "$data", "checkpoint_path": "$work/state-$1-$round/checkpoint.json"}, "health": {"port": 0},
 "sinks": [{"type": "http", "format": "clickhouse", "url": "$url", "table": "bench", "compression": "$1"}]}
J
  run "log-sidecar ($1)" "$bin" --config "$work/sidecar-$1.json" --log-level warning
}
theirs() {
  [ -f "$sng/usr/lib/syslog-ng/3.38/libhttp.so" ] || return 0
  rm -f "$work/syslog-ng.persist"
  sed -e "s|@INPUT@|$data|" -e "s|@URL@|$url|" "$here/peers/syslog-ng-clickhouse.conf" > "$work/syslog-ng.conf"
  LD_LIBRARY_PATH=$sng/usr/lib/syslog-ng run "syslog-ng http()" "$sng/usr/sbin/syslog-ng" -F -f "$work/syslog-ng.conf" --no-caps \
    --module-path "$sng/usr/lib/syslog-ng/3.38" --persist-file="$work/syslog-ng.persist" \
    --pidfile="$work/syslog-ng.pid" --control="$work/syslog-ng.ctl"
}

echo "| shipper | rows/s | CPU s | CPU µs/row | peak RSS | ClickHouse CPU s | ClickHouse CPU s, settled | row check |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for round in $(seq 1 "${ROUNDS:-3}"); do
  # This machine's speed drifts within minutes: every other round runs the contenders backwards.
  if [ $((round % 2)) -eq 1 ]; then ours gzip; ours none; theirs; else theirs; ours none; ours gzip; fi
done
echo; echo "ClickHouse's own counters (system.events) over each run:"; cat "$work/events.txt"
python3 - "$work/results.tsv" <<'P'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
by = {}
for round_, name, lines, seconds, cpu, rss, ch_ticks, sample, settled_ticks in rows:
    by.setdefault(name, {})[int(round_)] = dict(rate=int(lines) / float(seconds), us=float(cpu) / int(lines) * 1e6,
                                                 ch_us=int(ch_ticks) / 100 / int(lines) * 1e6, rss=int(rss) / 1024, ok=sample.strip() == "1",
                                                 settled_us=int(settled_ticks) / 100 / int(lines) * 1e6)
print("\nmedians over %d rounds" % max(len(r) for r in by.values()))
print("| shipper | rows/s | CPU µs/row | peak RSS | ClickHouse CPU µs/row | settled | rows checked |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for name, runs in by.items():
    median = lambda key: statistics.median(run[key] for run in runs.values())
    print(f"| {name} | {median('rate'):,.0f} | {median('us'):.2f} | {median('rss'):.1f} MiB | {median('ch_us'):.2f} | {median('settled_us'):.2f} | {'ok' if all(r['ok'] for r in runs.values()) else 'BAD ROW'} |")
theirs = by.get("syslog-ng http()")
if theirs:
    for name in [n for n in by if n.startswith("log-sidecar")]:
        for round_, run in sorted(by[name].items()):
            other = theirs.get(round_)
            if other is None:
                continue
            rate = "at or above" if run["rate"] >= other["rate"] else "BELOW"
            ch = "at or below" if run["ch_us"] <= other["ch_us"] else "ABOVE"
            settled = "at or below" if run["settled_us"] <= other["settled_us"] else "ABOVE"
            print(f"round {round_}, {name}: rows/s {run['rate']:,.0f} {rate} syslog-ng's {other['rate']:,.0f}; "
                  f"ClickHouse CPU {run['ch_us']:.2f} µs/row {ch} its {other['ch_us']:.2f} on syslog-ng's in the window, "
                  f"{run['settled_us']:.2f} {settled} its {other['settled_us']:.2f} settled")
P
