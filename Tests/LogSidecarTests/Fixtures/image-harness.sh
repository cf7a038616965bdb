#!/usr/bin/env bash
# The image's runtime stage, run as a container runtime would run it: call as root inside
# `unshare --mount --propagation private`:  image-harness.sh ROOT WORK PORT DOCKERFILE CONFIGMAP
# The root (scripts/image-rootfs.sh) is bind-mounted read-only; the log and state directories are the
# only writable mounts (tmpfs, as the manifests' emptyDirs), the config directory a read-only bind of
# a directory holding the ConfigMap's config.json. log-sidecar runs as 65532:65532 with exactly the
# environment the Dockerfile's ENV declares (and HOSTNAME). Results go to WORK: ldd.txt, owners.txt (the package of each
# library, from the root's own dpkg database), out.jsonl, stderr, healthz, readyz, checkpoint.json,
# status (the exit code after SIGTERM); then exec mode's exec-out.jsonl, exec-stderr, exec-status.
set -euo pipefail
root=$1 work=$2 port=$3 dockerfile=$4 configmap=$5
lines=${LINES_TO_WRITE:-1000}
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/image_env.py" "$dockerfile" > "$work/image.env"
mkdir -p "$work/config"
python3 -c 'import sys, yaml; open(sys.argv[2], "w").write(yaml.safe_load(open(sys.argv[1]))["data"]["config.json"])' \
  "$configmap" "$work/config/config.json"
mkdir -p "$root/var/log/app" "$root/var/lib/log-sidecar" "$root/etc/log-sidecar"
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/var/log/app"
mount -t tmpfs -o mode=0700,uid=65532,gid=65532 tmpfs "$root/var/lib/log-sidecar"
mount --bind "$work/config" "$root/etc/log-sidecar"
mount -o remount,bind,ro "$root/etc/log-sidecar"

chroot "$root" /usr/bin/ldd /usr/local/bin/log-sidecar > "$work/ldd.txt" 2>&1 || true
: > "$work/owners.txt"
for library in $(awk '$2 == "=>" && $3 ~ /^\// {print $3}' "$work/ldd.txt"); do
  # bookworm's dpkg database may name a library under /lib or /usr/lib (the merged /usr).
  owner=$(chroot "$root" dpkg -S "$library" 2>/dev/null || chroot "$root" dpkg -S "${library#/usr}" 2>/dev/null \
    || chroot "$root" dpkg -S "/usr$library" 2>/dev/null || echo "none: $library")
  echo "$owner" >> "$work/owners.txt"
done

env -i $(cat "$work/image.env") HOSTNAME=image-test \
  "$(command -v chroot)" --userspec=65532:65532 "$root" /usr/local/bin/log-sidecar --config /etc/log-sidecar/config.json \
  --health-address 127.0.0.1 --health-port "$port" > "$work/out.jsonl" 2> "$work/stderr" &
sidecar=$!
python3 - "$root/var/log/app/app.log" "$lines" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "a") as f:
    f.write("".join('{"seq":%d,"level":"info","msg":"from the image test"}\n' % i for i in range(n)))
PY
for _ in $(seq 1 300); do
  [ "$(wc -l < "$work/out.jsonl")" -ge "$lines" ] && [ -s "$root/var/lib/log-sidecar/checkpoint.json" ] && break
  kill -0 "$sidecar" 2>/dev/null || break
  sleep 0.1
done
curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$port/healthz" > "$work/healthz" || true
curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$port/readyz" > "$work/readyz" || true
kill -TERM "$sidecar" 2>/dev/null || true
status=0
wait "$sidecar" || status=$?
cp "$root/var/lib/log-sidecar/checkpoint.json" "$work/checkpoint.json" 2>/dev/null || true
echo "$status" > "$work/status"

# Exec mode as deploy/exec/Dockerfile runs it: PID 1 of a PID namespace of its own, the same user, the
# root read-only, no state directory, the image's own /bin/sh as the application. exec-status is the
# exit code (the child's 7 is expected).
exec_status=0
env -i $(cat "$work/image.env") HOSTNAME=image-test \
  unshare --pid --fork "$(command -v chroot)" --userspec=65532:65532 "$root" /usr/local/bin/log-sidecar --health-port 0 \
  -- /bin/sh -c 'echo "{\"from\":\"exec\",\"parent\":$PPID}"; echo "plain text" >&2; exit 7' \
  > "$work/exec-out.jsonl" 2> "$work/exec-stderr" || exec_status=$?
echo "$exec_status" > "$work/exec-status"
