#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks, idempotently.
#   scripts/setup.sh --build   what building and running log-sidecar needs (scripts/demo.sh)
#   scripts/setup.sh           that, and what the tests need: the services and tools they run, and their
#                              Python packages in .venv-tests (scripts/test.sh puts it first on PATH;
#                              Debian's own Python refuses `pip install` outside a virtual environment)
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=false
[ "${1:-}" = "--build" ] && build_only=true
need=()
# The filters' regular expressions and the HTTP sinks' gzip: headers and static libraries, linked in.
dpkg -s libpcre2-dev >/dev/null 2>&1 || need+=(libpcre2-dev)
dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(zlib1g-dev)
# The HTTP sinks: libcurl's headers at build time (the binary loads libcurl.so.4 only when an HTTP
# sink is configured).
dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 || need+=(libcurl4-openssl-dev)
if ! $build_only; then
  [ -x /lib/systemd/systemd-journald ] || need+=(systemd)
  command -v unshare >/dev/null 2>&1 || need+=(util-linux)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  # A real ClickHouse for the HTTP sinks' tests (started by the tests themselves).
  [ -x /usr/sbin/clickhouse-server ] || need+=(clickhouse-server)
  # The rename-cascade test runs the real logrotate.
  [ -x /usr/sbin/logrotate ] || need+=(logrotate)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  # The durability tests put the file sink on a FUSE filesystem whose fsync fails on demand.
  dpkg -s libfuse2 >/dev/null 2>&1 || need+=(libfuse2)
  # The image test builds the runtime stage's root filesystem from Debian's packages.
  command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
  # The multiline presets are tested on what real runtimes print: a JVM, Go (and CPython, here already).
  command -v java >/dev/null 2>&1 || need+=(default-jdk-headless)
  command -v go >/dev/null 2>&1 || need+=(golang-go)
  # The tests' Python packages live in a virtual environment.
  python3 -c "import ensurepip, venv" >/dev/null 2>&1 || need+=(python3-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
$build_only && exit 0
# /metrics is checked with Prometheus' own parser, the manifests read with PyYAML, the failing
# filesystem is FUSE through fusepy, and OTLP bodies are parsed with OpenTelemetry's own schema.
venv=.venv-tests
[ -x "$venv/bin/python3" ] || python3 -m venv "$venv"
"$venv/bin/python3" -c "import prometheus_client, yaml, fuse, opentelemetry.proto" 2>/dev/null \
  || "$venv/bin/pip" install -q --disable-pip-version-check prometheus-client pyyaml fusepy opentelemetry-proto
