#!/usr/bin/env bash
# Runs a command beside a real, private systemd-journald: call it as
#   unshare --mount --propagation private journald-harness.sh WORKDIR COMMAND...
# (scripts/private-journald.sh). The command runs in the background; once the
# journal holds $EXPECT entries of identifier $IDENTIFIER (bounded poll), it gets SIGTERM, and the
# journal is written to WORKDIR/journal.json. Exit status: the command's.
# With RESTART_AT=N, journald is killed (SIGKILL) once the journal holds N entries, kept down for
# half a second while the command goes on sending, and started again.
set -euo pipefail
work=$1; shift
journald=$("$(dirname "$0")/../../../scripts/private-journald.sh" "$work")

"$@" &
command=$!
count=0
for _ in $(seq 1 1500); do
  count=$(journalctl -q -o cat --identifier "$IDENTIFIER" 2>/dev/null | wc -l)
  [ "$count" -ge "$EXPECT" ] && break
  if [ -n "${RESTART_AT:-}" ] && [ "$count" -ge "$RESTART_AT" ]; then
    RESTART_AT=
    kill -KILL "$journald"
    wait "$journald" 2>/dev/null || true
    sleep 0.5  # the outage itself, not a wait for anything
    journald=$("$(dirname "$0")/../../../scripts/private-journald.sh" "$work" --restart)
    echo "journald restarted" >> "$work/harness.log"
  fi
  kill -0 "$command" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$command" 2>/dev/null || true
status=0
wait "$command" || status=$?
journalctl -q --all -o json --identifier "$IDENTIFIER" > "$work/journal.json"
kill "$journald" 2>/dev/null || true
wait "$journald" 2>/dev/null || true
exit "$status"
