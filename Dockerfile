# log-sidecar: a static release binary on a slim Debian base (glibc, and libsystemd0 for the journald
# sink, which the base already carries as a dependency of apt). Build: docker build -t log-sidecar .

FROM swift:6.3.1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsystemd-dev=252.* pkg-config=1.8.* \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
RUN swift build -c release --static-swift-stdlib --product log-sidecar \
    && install -D -m 0755 -s "$(swift build -c release --show-bin-path)/log-sidecar" /out/log-sidecar

FROM debian:12.12-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="log-sidecar" \
      org.opencontainers.image.description="Follows one JSON-lines file through every rotation, enriches each record and ships it to stdout, files or journald." \
      org.opencontainers.image.source="https://github.com/log-sidecar/log-sidecar" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/log-sidecar /usr/local/bin/log-sidecar

# Every key of the configuration is also an environment variable (LOG_SIDECAR_ + the key path in upper
# case); these are the defaults, spelled out so `docker inspect` documents them. A mounted --config file
# is read first and these override it, so only set here what every deployment shares.
# The JSON-lines file to follow (the application's side of the shared volume).
ENV LOG_SIDECAR_INPUT_PATH=/var/log/app/app.log
# Where the acknowledged offset is kept: mount a writable volume here (the root filesystem is read-only).
ENV LOG_SIDECAR_INPUT_CHECKPOINT_PATH=/var/lib/log-sidecar/checkpoint.json
# Where a first start begins: beginning or end.
ENV LOG_SIDECAR_INPUT_READ_FROM=beginning
# Longer lines are cut at a UTF-8 boundary and flagged "truncated".
ENV LOG_SIDECAR_INPUT_MAX_LINE_BYTES=1048576
# merge adds the fields to the application's object; wrap nests it under "raw".
ENV LOG_SIDECAR_ENRICH_MODE=merge
# Where records go: stdout, file:/path, journald, comma-separated.
ENV LOG_SIDECAR_SINKS=stdout
# The health server: /healthz /readyz /health /metrics; port 0 disables it.
ENV LOG_SIDECAR_HEALTH_ADDRESS=0.0.0.0
ENV LOG_SIDECAR_HEALTH_PORT=9090
# How long SIGTERM may spend shipping what is left (keep terminationGracePeriodSeconds above it).
ENV LOG_SIDECAR_SHUTDOWN_DRAIN_TIMEOUT_MS=10000

EXPOSE 9090
# A fixed non-root identity (the distroless "nonroot" UID/GID), matching the Kubernetes manifests.
USER 65532:65532
# No HEALTHCHECK on purpose: Kubernetes probes /healthz and /readyz (see deploy/kubernetes).
ENTRYPOINT ["/usr/local/bin/log-sidecar"]
