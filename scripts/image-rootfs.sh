#!/usr/bin/env bash
# Builds the container image's runtime stage as a root filesystem from Debian's packages, without a
# container engine: bookworm's minbase, slimmed as debian:12-slim is, plus
# deploy/image/runtime-packages.txt, the same list the Dockerfile installs; then the binary, stripped,
# at /usr/local/bin/log-sidecar as the Dockerfile puts it. The root is cached in .build-image/ by the
# hash of the list and of this script; the binary is put in anew each time. Prints the root's path.
#   scripts/image-rootfs.sh [BINARY]   (default: the static release build, .build/release/log-sidecar)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/release/log-sidecar}
[ -x "$binary" ] || { echo "no binary at $binary: scripts/build-release.sh" >&2; exit 2; }
command -v mmdebstrap >/dev/null 2>&1 || { echo "mmdebstrap is missing: scripts/setup.sh installs it" >&2; exit 2; }
packages=$(grep -v '^[[:space:]]*$' deploy/image/runtime-packages.txt | paste -sd, -)
key=$(cat deploy/image/runtime-packages.txt "$0" | sha256sum | cut -c1-16)
root=$PWD/.build-image/rootfs-$key
if [ ! -f "$root/.complete" ]; then
  rm -rf .build-image/rootfs-*
  mkdir -p .build-image
  echo "building the runtime root filesystem ($packages)" >&2
  # As debian:12-slim is made: minbase, /usr merged by a hook (the usrmerge package would pull in perl),
  # and dpkg told to leave out documentation, manuals and translations (its "slimify" excludes).
  mmdebstrap --quiet --variant=minbase --mode=root --include="$packages" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    bookworm "$root" http://deb.debian.org/debian >&2
  touch "$root/.complete"
fi
install -D -m 0755 -s "$binary" "$root/usr/local/bin/log-sidecar"
echo "$root"
