#!/usr/bin/env bash
# Runs a command beside a real, private systemd-journald: call it as
#   unshare --mount --propagation private journald-harness.sh WORKDIR COMMAND...
# (scripts/private-journald.sh). The command runs in the background; once the
# journal holds $EXPECT entries of identifier $IDENTIFIER (bounded poll), it gets SIGTERM, and the
# journal is written to WORKDIR/journal.json. Exit status: the command's.
set -euo pipefail
work=$1; shift
journald=$("$(dirname "$0")/../../../scripts/private-journald.sh" "$work")

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
