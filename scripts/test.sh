#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds once, and runs every test (Swift Testing runs them in
# parallel), with the lint of what we ship (Dockerfile, manifests, systemd unit) running beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
deploy_log=$(mktemp)
scripts/check-deploy.sh > "$deploy_log" 2>&1 &
deploy=$!
status=0
swift test --skip-build || status=$?
if wait "$deploy"; then
  grep -E "^==|passed|Passed checks" "$deploy_log" || true
else
  cat "$deploy_log"
  echo "deploy checks FAILED"
  status=1
fi
rm -f "$deploy_log"
exit "$status"
