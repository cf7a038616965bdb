#!/usr/bin/env bash
# Starts a real systemd-journald that only the caller's mount namespace sees: call it as root from a
# script run under `unshare --mount --propagation private`. tmpfs over /run/systemd, /run/log and
# /var/log/journal keeps the host's journal untouched; the rate limit is off, or journald drops lines
# on purpose. Prints journald's PID once its socket is up.  usage: private-journald.sh WORKDIR
set -euo pipefail
work=$1
for dir in /run/systemd /run/log /var/log/journal; do
  mkdir -p "$dir"
  mount -t tmpfs tmpfs "$dir"
done
mkdir -p /run/systemd/journal
printf '[Journal]\nStorage=volatile\nRateLimitIntervalSec=0\nRateLimitBurst=0\nRuntimeMaxUse=2G\nForwardToSyslog=no\nForwardToWall=no\n' > "$work/journald.conf"
mount --bind "$work/journald.conf" /etc/systemd/journald.conf
/lib/systemd/systemd-journald > "$work/journald.log" 2>&1 &
for _ in $(seq 1 500); do [ -S /run/systemd/journal/socket ] && break; sleep 0.02; done
[ -S /run/systemd/journal/socket ] || { echo "journald did not start" >&2; cat "$work/journald.log" >&2; exit 90; }
echo $!
