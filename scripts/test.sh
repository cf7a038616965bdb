#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds once, and runs every test (Swift Testing runs them in
# parallel), with the lint of what we ship (Dockerfile, manifests, systemd unit) running beside them.
# Ends with one line, "tests: N passed, N failed", counting the Swift tests, the format lint, the
# deploy checks and a short fuzz run of every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The tests' Python packages (scripts/setup.sh put them in .venv-tests) come with its python3.
export PATH="$PWD/.venv-tests/bin:$PATH"
swift build --build-tests
# The image test runs the binary exactly as the Dockerfile builds it: static, release.
scripts/build-release.sh
deploy_log=$(mktemp)
test_log=$(mktemp)
trap 'rm -f "$deploy_log" "$test_log"' EXIT
scripts/check-deploy.sh > "$deploy_log" 2>&1 &
deploy=$!
status=0
# The layout every Swift file keeps (.swift-format); `swift format --in-place --recursive Sources Tests
# Package.swift` fixes what the lint finds.
if swift format lint --strict --recursive Sources Tests Package.swift; then
  lint_passed=1
else
  echo "swift format lint FAILED"
  lint_passed=0
  status=1
fi
swift test --skip-build --skip "JournaldInputTests|JournaldFaultTests" 2>&1 | tee "$test_log" || status=$?
# The journal input's scenarios (each beside a journald of its own, up to 200,000 entries) run after
# the rest, as the fuzz run does: they take both cores, and the other tests' timing is not theirs to move.
swift test --skip-build --filter "JournaldInputTests|JournaldFaultTests" 2>&1 | tee -a "$test_log" || status=$?
passed=$(grep -cE '^. Test "[^"]*".* passed after' "$test_log" || true)
failed=$(grep -cE '^. Test "[^"]*".* failed after' "$test_log" || true)
if [ "$lint_passed" -eq 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
# A short fuzz run of every target (the long ones are Fuzz/run.sh's default, by hand): after the tests,
# so that it does not take a core from their timing.
if Fuzz/run.sh "${FUZZ_SECONDS:-10}"; then
  passed=$((passed + 1))
else
  echo "fuzz smoke run FAILED"
  failed=$((failed + 1))
  status=1
fi
if wait "$deploy"; then
  grep -E "^==|Passed checks|deploy checks passed" "$deploy_log" || true
  passed=$((passed + 1))
else
  cat "$deploy_log"
  echo "deploy checks FAILED"
  failed=$((failed + 1))
  status=1
fi
[ "$status" -eq 0 ] && [ "$failed" -gt 0 ] && status=1
echo "tests: $passed passed, $failed failed"
exit "$status"
