#!/usr/bin/env bash
# Runs a scenario beside a real, private systemd-journald (scripts/private-journald.sh): call it as
#   unshare --mount --propagation private journal-scenario.sh WORKDIR SCRIPT
# SCRIPT is sourced by bash with set -euo pipefail, after journald is up, with these in scope:
#   WORK, BINARY (log-sidecar), REPO, JOURNALD_PID and the helpers below. Whatever the scenario leaves in
#   WORK is what the test reads; journald and every daemon it started are stopped at the end.
set -euo pipefail
WORK=$1
script=$2
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
JOURNALD_PID=$("$REPO/scripts/private-journald.sh" "$WORK")
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

# archived_entries COUNT: entries 0..COUNT-1 from identifier "app", in the journal, then rotated into an
# archived file; prints that file's path (the oldest archived one, where the first entries are).
archived_entries() {
  seq 0 $(($1 - 1)) | systemd-cat -t app
  wait_for "the entries in the journal" 60 journal_at_least "$1" -t app
  journalctl --rotate
  ls /run/log/journal/*/system@*.journal | head -n 1
}
# start_daemon NAME CONFIG: log-sidecar in the background, its stderr in WORK/NAME.log.
start_daemon() {
  "$BINARY" --config "$2" >> "$WORK/$1.log" 2>&1 &
  daemons+=($!)
  eval "PID_$1=$!"
}
# reader_of NAME: the pid of that daemon's journal reader (its child; other scenarios run theirs at
# the same time in the same pid namespace).
reader_of() {
  local pid
  eval "pid=\$PID_$1"
  pgrep -P "$pid" -f -- "--journal-reader" | head -n 1
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
