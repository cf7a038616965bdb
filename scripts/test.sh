#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds once, and runs every test (Swift Testing runs them in parallel).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build
