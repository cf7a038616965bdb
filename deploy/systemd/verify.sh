#!/usr/bin/env bash
# systemd-analyze verify needs the unit's binary where ExecStart points: verify a copy of each unit
# whose ExecStart names the freshly built binary, and check each unit's configuration (its flags and
# the example config) through --check-config.
set -euo pipefail
cd "$(dirname "$0")/../.."
binary=$(swift build --show-bin-path)/log-sidecar
[ -x "$binary" ] || swift build --product log-sidecar
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for unit in deploy/systemd/*.service; do
  name=$(basename "$unit")
  sed "s|/usr/local/bin/log-sidecar|$binary|" "$unit" > "$work/$name"
  # verify exits 0 on settings it ignores ("Failed to parse ..., ignoring"): any output is a failure.
  output=$(systemd-analyze verify "$work/$name" 2>&1) || { echo "$output"; exit 1; }
  if [ -n "$output" ]; then echo "$name: $output"; exit 1; fi
  # ExecStart's own arguments (the installed config is this directory's), with --check-config put in
  # front of them (so before any --).
  read -r -a start <<< "$(sed -n 's|^ExecStart=/usr/local/bin/log-sidecar ||p' "$unit" | sed 's|/etc/log-sidecar/|deploy/systemd/|')"
  # A unit that takes secrets from an EnvironmentFile is checked with this directory's example of it.
  environment=()
  envfile=$(sed -n 's|^EnvironmentFile=-\?/etc/log-sidecar/||p' "$unit")
  if [ -n "$envfile" ]; then mapfile -t environment < <(grep -v '^#' "deploy/systemd/$envfile.example"); fi
  env "${environment[@]}" "$binary" --check-config "${start[@]}" > /dev/null || { echo "$name: its ExecStart configuration is rejected"; exit 1; }
done
