# log-sidecar: a static release binary (PCRE2 and zlib linked in) on a slim Debian base; it needs glibc, libstdc++
# and libgcc (deploy/image/runtime-packages.txt), plus libcurl4 and ca-certificates, which it loads only
# when an HTTP sink is configured: the journald sink speaks journald's native protocol itself.
# Build: docker build -t log-sidecar .

FROM swift:6.3.1-bookworm AS build
# What the build needs beyond the Swift image, one Debian package a line: PCRE2 (the filters' patterns),
# linked from its static archive, and libcurl's headers (the HTTP sinks load libcurl.so.4 with dlopen).
COPY deploy/image/build-packages.txt /tmp/build-packages.txt
RUN apt-get update \
    && xargs --arg-file=/tmp/build-packages.txt apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
# The release build as it ships: the idle daemon's functions laid out together (scripts/build-release.sh).
COPY scripts/build-release.sh scripts/idle-order.txt ./scripts/
RUN scripts/build-release.sh \
    && install -D -m 0755 -s "$(swift build -c release --show-bin-path)/log-sidecar" /out/log-sidecar

FROM debian:12.12-slim
ARG VERSION=0.1.0
# What the binary needs at run time, one Debian package a line; scripts/image-rootfs.sh builds the same
# runtime stage from the same list, and the image test fails when a library comes from a package the
# list does not name.
COPY deploy/image/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
    && xargs --arg-file=/tmp/runtime-packages.txt apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt
LABEL org.opencontainers.image.title="log-sidecar" \
      org.opencontainers.image.description="Follows JSON-lines files through every rotation, enriches each record and ships it to stdout, files, journald or HTTP receivers such as ClickHouse." \
      org.opencontainers.image.source="https://github.com/log-sidecar/log-sidecar" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/log-sidecar /usr/local/bin/log-sidecar

# No LOG_SIDECAR_* variable is set here on purpose: the environment overrides the mounted --config
# file, so an image default would silently beat the ConfigMap. Every key has a built-in default that
# `log-sidecar --help` lists (with its flag and variable) and `--check-config` prints; the labels below
# name the ones a deployment usually mounts or probes.
LABEL io.log-sidecar.default.input.path="/var/log/app/app.log" \
      io.log-sidecar.default.input.checkpoint_path="/var/lib/log-sidecar/checkpoint.json" \
      io.log-sidecar.default.sinks="stdout" \
      io.log-sidecar.default.health.port="9090" \
      io.log-sidecar.default.shutdown.drain_timeout_ms="10000" \
      io.log-sidecar.help="log-sidecar --help lists every key, its flag, variable and default"

EXPOSE 9090
# A fixed non-root identity (the distroless "nonroot" UID/GID), matching the Kubernetes manifests.
USER 65532:65532
# No HEALTHCHECK on purpose: Kubernetes probes /healthz and /readyz (see deploy/kubernetes).
ENTRYPOINT ["/usr/local/bin/log-sidecar"]
