#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, run and test log-sidecar. Idempotent.
set -euo pipefail
need=()
[ -x /lib/systemd/systemd-journald ] || need+=(systemd)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v curl >/dev/null 2>&1 || need+=(curl)
# The filters' regular expressions: PCRE2's headers and static library, linked into the binary.
dpkg -s libpcre2-dev >/dev/null 2>&1 || need+=(libpcre2-dev)
# The HTTP sinks: libcurl's headers at build time (the binary loads libcurl.so.4 only when an HTTP
# sink is configured), and a real ClickHouse for their tests (started by the tests themselves).
dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 || need+=(libcurl4-openssl-dev)
[ -x /usr/sbin/clickhouse-server ] || need+=(clickhouse-server)
# The rename-cascade test runs the real logrotate.
[ -x /usr/sbin/logrotate ] || need+=(logrotate)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The durability tests put the file sink on a FUSE filesystem whose fsync fails on demand.
dpkg -s libfuse2 >/dev/null 2>&1 || need+=(libfuse2)
# The image test builds the runtime stage's root filesystem from Debian's packages.
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The /metrics test checks the exposition with Prometheus' own parser.
python3 -c "import prometheus_client" 2>/dev/null || python3 -m pip install -q prometheus-client
# The pod-shaped test reads the Kubernetes manifests.
python3 -c "import yaml" 2>/dev/null || python3 -m pip install -q pyyaml
python3 -c "import fuse" 2>/dev/null || python3 -m pip install -q fusepy
# The OTLP sink's test parses every request body with OpenTelemetry's own schema.
python3 -c "import opentelemetry.proto" 2>/dev/null || python3 -m pip install -q opentelemetry-proto
