#!/usr/bin/env bash
# The benchmark entry point: installs the peers, builds a static release binary, runs bench.py.
# Arguments go to bench.py (--help lists them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../scripts/setup.sh"
"$here/install-peers.sh"
"$here/../scripts/build-release.sh"
exec python3 "$here/bench.py" "$@"
