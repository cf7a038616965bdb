#!/usr/bin/env bash
# Runs a scenario beside a real, private systemd-journald (scripts/private-journald.sh): call it as
#   unshare --mount --propagation private journal-scenario.sh WORKDIR SCRIPT
# SCRIPT is sourced by bash with set -euo pipefail, after journald is up, with these in scope:
#   WORK, BINARY (log-sidecar), JOURNALD_PID and the helpers below. Whatever the scenario leaves in
#   WORK is what the test reads; journald and every daemon it started are stopped at the end.
set -euo pipefail
WORK=$1
script=$2
repo=$(cd "$(dirname "$0")/../../.." && pwd)
JOURNALD_PID=$("$repo/scripts/private-journald.sh" "$WORK")
daemons=()

cleanup() {
  for pid in "${daemons[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  kill "$JOURNALD_PID" 2>/dev/null || true
  wait "$JOURNALD_PID" 2>/dev/null || true
}
trap cleanup EXIT

# Bounded polls: a condition, at most SECONDS (default 90), or the scenario fails naming it.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "timed out waiting for $what" >&2; exit 91; fi
    sleep 0.05
  done
}
lines_at_least() { [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]; }
# Entries in the journal that `journalctl ARGS` selects.
journal_count() { journalctl -q --no-pager -o cat "$@" 2>/dev/null | wc -l; }
journal_at_least() { local n=$1; shift; [ "$(journal_count "$@")" -ge "$n" ]; }

# start_daemon NAME CONFIG: log-sidecar in the background, its stderr in WORK/NAME.log.
start_daemon() {
  "$BINARY" --config "$2" >> "$WORK/$1.log" 2>&1 &
  daemons+=($!)
  eval "PID_$1=$!"
}
# stop_daemon NAME SIGNAL: sends SIGNAL and waits for it; its exit status in WORK/NAME.status.
stop_daemon() {
  local pid
  eval "pid=\$PID_$1"
  kill "-$2" "$pid"
  local status=0
  wait "$pid" || status=$?
  echo "$status" >> "$WORK/$1.status"
}

source "$script"
