#!/usr/bin/env bash
# A pod on one machine: run as root inside `unshare --mount --propagation private`.
#   pod-harness.sh WORK BINARY MANIFEST CONFIGMAP RATE SECONDS DOCKERFILE
# One tmpfs stands for the emptyDir at /var/log/app (group-owned by the pod's fsGroup, setgid, as
# Kubernetes makes it), another for the checkpoint volume. The writer runs as the manifest's app user,
# log-sidecar as its own user with the fsGroup, each with only the environment the manifest gives it.
# The writer logs RATE lines/s for SECONDS s, rotating (rename + create) every second, and ten lines of
# text to error.log beside it, and exits; then
# log-sidecar gets SIGTERM at once, as a native sidecar does after its application stopped.
# log-sidecar's environment is the image's (the Dockerfile's ENV) and then the manifest's; what that
# makes of the ConfigMap is written to WORK/effective.json by --check-config.
set -euo pipefail
work=$1 binary=$2 manifest=$3 configmap=$4 rate=$5 seconds=$6 dockerfile=$7
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/manifest_env.py" "$manifest" "$configmap" "$work" shop-7d9f8-x2x4q shop node-1 "$dockerfile"
read -r sidecar_uid sidecar_gid fs_group app_uid app_gid kind < "$work/ids"
# The application's JSON log is the first entry of input.paths (or input.path); its text log, error.log, sits beside it.
input=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["input"]; p=i.get("path") or i["paths"][0]; print(p if isinstance(p, str) else p["path"])' "$work/config.json")
checkpoint=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["input"]["checkpoint_path"])' "$work/config.json")
logs=$(dirname "$input")
state=$(dirname "$checkpoint")
cp "$binary" "$work/log-sidecar"
chmod 0755 "$work" "$work/log-sidecar"

for dir in "$(dirname "$logs")" "$(dirname "$state")"; do mount -t tmpfs tmpfs "$dir"; done
mkdir -p "$logs" "$state"
chgrp "$fs_group" "$logs" && chmod 2775 "$logs"
chown "$sidecar_uid:$fs_group" "$state" && chmod 2770 "$state"

env -i PATH=/usr/bin:/bin HOSTNAME=shop-7d9f8-x2x4q $(cat "$work/sidecar.env") \
  "$work/log-sidecar" --config "$work/config.json" --check-config > "$work/effective.json"
: > "$work/out.jsonl"
: > "$work/stderr"
env -i PATH=/usr/bin:/bin HOSTNAME=shop-7d9f8-x2x4q $(cat "$work/sidecar.env") \
  setpriv --reuid="$sidecar_uid" --regid="$sidecar_gid" --groups="$fs_group" \
  "$work/log-sidecar" --config "$work/config.json" --health-port 0 --input-poll-interval-ms 200 \
  > "$work/out.jsonl" 2> "$work/stderr" &
sidecar=$!

env -i PATH=/usr/bin:/bin setpriv --reuid="$app_uid" --regid="$app_gid" --groups="$fs_group" \
  python3 - "$input" "$rate" "$seconds" > "$work/written" <<'PY'
import os, sys, time
path, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
os.umask(0o002)
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o664)
errors = os.open(os.path.join(os.path.dirname(path), "error.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o664)
os.write(errors, "".join("warning: slow request %d took 2.%d s\n" % (n, n) for n in range(10)).encode())
os.close(errors)
start = time.time(); seq = 0; rotations = 0
while True:
    elapsed = time.time() - start
    due = min(int(elapsed * rate), int(seconds * rate))
    if due > seq:
        os.write(fd, "".join('{"seq":%d,"level":"info","msg":"order placed"}\n' % n for n in range(seq, due)).encode())
        seq = due
    if elapsed >= seconds:
        break
    if elapsed >= rotations + 1:
        rotations += 1
        os.rename(path, "%s.%d" % (path, rotations))
        os.close(fd)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o664)
    time.sleep(0.005)
os.close(fd)
print(seq)
PY
kill -TERM "$sidecar"
status=0
wait "$sidecar" || status=$?
echo "$kind $status" > "$work/result"
