#!/usr/bin/env bash
# Installs the benchmark's peers without running them as services: rsyslog from apt, syslog-ng-core
# unpacked into Benchmarks/.peers (it conflicts with rsyslog in apt), and the tools the script uses.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
need=()
command -v rsyslogd >/dev/null 2>&1 || need+=(rsyslog)
# omelasticsearch: rsyslog's HTTP output, the idle workload's peer for an HTTP sink.
dpkg -s rsyslog-elasticsearch >/dev/null 2>&1 || need+=(rsyslog-elasticsearch)
[ -x /usr/bin/time ] || need+=(time)
for lib in libivykis0 libnet1 libjson-c5 libpcre3 libwrap0 libglib2.0-0; do
  dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
# rsyslog's package enables a system service; the benchmark runs its own instance in the foreground.
systemctl disable --now rsyslog >/dev/null 2>&1 || true
if [ ! -x "$here/.peers/syslog-ng/usr/sbin/syslog-ng" ]; then
  mkdir -p "$here/.peers"
  (cd "$here/.peers" && rm -f syslog-ng-core_*.deb && apt-get download -qq syslog-ng-core >/dev/null && dpkg -x syslog-ng-core_*.deb syslog-ng)
fi
# Its libraries are in the unpacked tree, as the benchmarks run it.
sng_version=$(LD_LIBRARY_PATH="$here/.peers/syslog-ng/usr/lib/syslog-ng" "$here/.peers/syslog-ng/usr/sbin/syslog-ng" --version 2>/dev/null | head -1 || echo '?')
echo "peers installed: $(rsyslogd -v | head -1); $sng_version" >&2
