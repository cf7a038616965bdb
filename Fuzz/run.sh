#!/usr/bin/env bash
# Fuzzes what reads outside data with libFuzzer: the JSON scanner + enricher, the filters, the
# checkpoint decoder, the configuration loader, OTLP's writers and response reader (properties in
# Sources/log-sidecar-fuzz/FuzzTargets.swift), the multiline joiner, the logfmt parser and the time
# parser (TextFuzzTargets.swift), the plain-HTTP response reader (HTTPFuzzTargets.swift), the JSON
# scanner's SIMD walk against its byte by byte one (ScannerFuzzTarget.swift).
#   Fuzz/run.sh [SECONDS] [TARGET...]     (default: 600 s each, every target, one after the other)
# The committed seeds (Fuzz/corpus/TARGET) are copied to .build-fuzz/corpus/TARGET, where the fuzzer
# grows its corpus; that output is never committed. A crash leaves its input in .build-fuzz/ and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(enricher filters checkpoint config otlp multiline logfmt time http health scanner)
out=.build-fuzz
mkdir -p "$out"
# The fuzz executable (Sources/log-sidecar-fuzz) is a product of the package: it builds from the
# modules that read outside data, instrumented for libFuzzer and AddressSanitizer, in a build folder
# of its own. The C of the JSON scanner's first stage is instrumented too (-Xcc).
echo "building the fuzz targets"
# Linked with the toolchain's lld: ld.gold fails with an internal error on this executable.
swift build -c release --product log-sidecar-fuzz --scratch-path "$out/build" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld -Xcc -fsanitize=fuzzer-no-link,address > "$out/build.log" 2>&1 \
  || { tail -60 "$out/build.log"; exit 1; }
fuzzer=$out/build/release/log-sidecar-fuzz
status=0
for target in "${targets[@]}"; do
  corpus=$out/corpus/$target
  mkdir -p "$corpus"
  cp -n Fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  log=$out/$target.log
  echo "== $target: ${seconds}s"
  # Swift's own crash backtracer fights ASan's; libFuzzer's report is the one we want.
  if ! SWIFT_BACKTRACE=enable=no FUZZ_TARGET=$target "$fuzzer" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$out/$target-" "$corpus" > "$log" 2>&1; then
    status=1
    tail -40 "$log"
  fi
  runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  echo "$target: ${runs:-?} executions, corpus $(ls "$corpus" | wc -l) inputs ($(du -sk "$corpus" | cut -f1) KiB)"
done
exit "$status"
