#!/usr/bin/env bash
# Starts a real systemd-journald that only the caller's mount namespace sees: call it as root from a
# script run under `unshare --mount --propagation private`. tmpfs over /run/systemd, /run/log and
# /var/log/journal keeps the host's journal untouched; the rate limit is off, or journald drops lines
# on purpose. Prints journald's PID once its socket is up.
# usage: private-journald.sh WORKDIR [--restart]   (--restart: start it again in the same namespace,
# after the first one was killed; its journal files are kept)
set -euo pipefail
work=$1
socket=/run/systemd/journal/socket
if [ "${2:-}" != "--restart" ]; then
  for dir in /run/systemd /run/log /var/log/journal; do
    mkdir -p "$dir"
    mount -t tmpfs tmpfs "$dir"
  done
  mkdir -p /run/systemd/journal
  printf '[Journal]\nStorage=volatile\nRateLimitIntervalSec=0\nRateLimitBurst=0\nRuntimeMaxUse=2G\nForwardToSyslog=no\nForwardToWall=no\n' > "$work/journald.conf"
  mount --bind "$work/journald.conf" /etc/systemd/journald.conf
fi
# The native socket and the one systemd-cat writes to (stdout), each bound anew: a killed journald
# leaves its socket files behind, and a writer connecting to one of those is refused.
stdout=/run/systemd/journal/stdout
before=$(stat -c %i "$socket" 2>/dev/null || echo none)
before_stdout=$(stat -c %i "$stdout" 2>/dev/null || echo none)
/lib/systemd/systemd-journald >> "$work/journald.log" 2>&1 &
up() {
  [ -S "$socket" ] && [ "$(stat -c %i "$socket")" != "$before" ] && [ -S "$stdout" ] && [ "$(stat -c %i "$stdout")" != "$before_stdout" ]
}
for _ in $(seq 1 500); do up && break; sleep 0.02; done
up || { echo "journald did not start" >&2; cat "$work/journald.log" >&2; exit 90; }
echo $!
