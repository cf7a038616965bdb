#!/usr/bin/env bash
# Builds log-sidecar and runs it on a demo file: records on stdout, health on http://127.0.0.1:9090.
# A background writer appends a line a second. Ctrl-C or SIGTERM stops both: the daemon drains first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --build
scripts/build-release.sh
demo=.demo
mkdir -p "$demo"
if [ ! -s "$demo/app.log" ]; then
  printf '%s\n' '{"level":"info","msg":"demo started"}' 'not json at all' '{"level":"warn","msg":"disk at 91%","disk":"/var"}' > "$demo/app.log"
fi
( i=0; while sleep 1; do i=$((i+1)); printf '{"level":"info","msg":"tick","n":%d}\n' "$i" >> "$demo/app.log"; done ) &
writer=$!
echo "log-sidecar: following $demo/app.log; try: curl -s localhost:9090/health" >&2
.build/release/log-sidecar --input-path "$demo/app.log" --input-checkpoint-path "$demo/checkpoint.json" \
  --health-address 127.0.0.1 --health-port 9090 --enrich-fields "env=demo" &
daemon=$!
# Ctrl-C reaches the daemon from the terminal already (a second signal would end its drain at once);
# a SIGTERM sent to this script alone is passed on.
trap ':' INT
trap 'kill -TERM "$daemon" 2>/dev/null || true' TERM
trap 'kill "$writer" 2>/dev/null || true' EXIT
# `wait` returns early for a trapped signal; the daemon's own status comes once it has exited.
while kill -0 "$daemon" 2>/dev/null; do wait "$daemon" || true; done
status=0
wait "$daemon" || status=$?
exit "$status"
