#!/usr/bin/env bash
# Builds the release binary as it ships: static Swift runtime, every function of ours, the
# dependencies' and the runtime's in a section of its own, and the functions an idle daemon runs laid
# out together at the start of the text (scripts/idle-order.txt, written by scripts/idle-order.py):
# the kernel maps code in 64 KiB windows, so that is what keeps a quiet daemon's resident code small.
# `swift build -c release` alone builds the same program with the functions in the default order.
# Extra arguments go to swift build. Prints nothing but swift build's output; the binary is at
# "$(swift build -c release --show-bin-path)/log-sidecar".
set -euo pipefail
cd "$(dirname "$0")/.."
exec swift build -c release --static-swift-stdlib --product log-sidecar \
  -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
  -Xlinker "--section-ordering-file=$PWD/scripts/idle-order.txt" "$@"
