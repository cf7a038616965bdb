#!/usr/bin/env bash
# systemd-analyze verify needs the unit's binary where ExecStart points: verify a copy of the unit
# whose ExecStart names the freshly built binary, plus the example config through --check-config.
set -euo pipefail
cd "$(dirname "$0")/../.."
binary=$(swift build --show-bin-path)/log-sidecar
[ -x "$binary" ] || swift build --product log-sidecar
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|/usr/local/bin/log-sidecar|$binary|" deploy/systemd/log-sidecar.service > "$work/log-sidecar.service"
# verify exits 0 on settings it ignores ("Failed to parse ..., ignoring"): any output is a failure.
output=$(systemd-analyze verify "$work/log-sidecar.service" 2>&1) || { echo "$output"; exit 1; }
if [ -n "$output" ]; then echo "$output"; exit 1; fi
"$binary" --config deploy/systemd/config.json --check-config > /dev/null
