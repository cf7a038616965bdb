#!/usr/bin/env bash
# Runs a command beside a real, private systemd-journald: call it as
#   unshare --mount --propagation private journald-harness.sh WORKDIR COMMAND...
# tmpfs over /run/systemd, /run/log and /var/log/journal keeps the host's journal untouched; the rate
# limit is off, or journald drops lines on purpose. The command runs in the background; once the
# journal holds $EXPECT entries of identifier $IDENTIFIER (bounded poll), it gets SIGTERM, and the
# journal is written to WORKDIR/journal.json. Exit status: the command's.
set -euo pipefail
work=$1; shift
for dir in /run/systemd /run/log /var/log/journal; do
  mkdir -p "$dir"
  mount -t tmpfs tmpfs "$dir"
done
mkdir -p /run/systemd/journal
printf '[Journal]\nStorage=volatile\nRateLimitIntervalSec=0\nRateLimitBurst=0\nRuntimeMaxUse=1G\nForwardToSyslog=no\nForwardToWall=no\n' > "$work/journald.conf"
mount --bind "$work/journald.conf" /etc/systemd/journald.conf
/lib/systemd/systemd-journald > "$work/journald.log" 2>&1 &
journald=$!
for _ in $(seq 1 500); do [ -S /run/systemd/journal/socket ] && break; sleep 0.02; done
[ -S /run/systemd/journal/socket ] || { echo "journald did not start" >&2; cat "$work/journald.log" >&2; exit 90; }

"$@" &
command=$!
count=0
for _ in $(seq 1 1500); do
  count=$(journalctl -q -o cat --identifier "$IDENTIFIER" 2>/dev/null | wc -l)
  [ "$count" -ge "$EXPECT" ] && break
  kill -0 "$command" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$command" 2>/dev/null || true
status=0
wait "$command" || status=$?
journalctl -q -o json --identifier "$IDENTIFIER" > "$work/journal.json"
kill "$journald" 2>/dev/null || true
wait "$journald" 2>/dev/null || true
exit "$status"
