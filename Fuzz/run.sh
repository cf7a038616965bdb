#!/usr/bin/env bash
# Fuzzes what reads outside data with libFuzzer: the JSON scanner + enricher, the filters, the
# checkpoint decoder, the configuration loader and OTLP's writers and response reader, each against
# the properties in Fuzz/FuzzTargets.swift.
#   Fuzz/run.sh [SECONDS] [TARGET...]     (default: 600 s each, every target, one after the other)
# The committed seeds (Fuzz/corpus/TARGET) are copied to .build-fuzz/corpus/TARGET, where the fuzzer
# grows its corpus; that output is never committed. A crash leaves its input in .build-fuzz/ and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(enricher filters checkpoint config otlp)
out=.build-fuzz
mkdir -p "$out"
lib=Sources/LogSidecar
sources=(
  "$lib"/JSON/*.swift "$lib"/Config/*.swift "$lib"/Filter/*.swift "$lib"/Pipeline/Enricher+Filters.swift
  "$lib"/Pipeline/Enricher.swift "$lib"/Pipeline/EnrichmentFields.swift "$lib"/Pipeline/LineSource.swift "$lib"/Pipeline/KeyFilter.swift "$lib"/Pipeline/RecordBatch.swift "$lib"/Pipeline/TimestampCache.swift
  "$lib"/Tail/LineSplitter.swift "$lib"/Tail/ReadBuffer.swift "$lib"/Tail/GlobPattern.swift "$lib"/Tail/Checkpoint.swift "$lib"/Tail/FileIdentity.swift
  "$lib"/Sinks/HTTP/HTTPSinkConfig.swift "$lib"/Sinks/HTTP/HTTPSinkConfig+Names.swift "$lib"/Tail/RecordOrigin.swift
  "$lib"/Sinks/HTTP/OTLP/AnyValueWriter.swift "$lib"/Sinks/HTTP/OTLP/ProtobufWriter.swift "$lib"/Sinks/HTTP/OTLP/ProtobufReader.swift
  "$lib"/System/FileDescriptor.swift "$lib"/System/FileStatus.swift "$lib"/System/SystemError.swift "$lib"/System/Clock.swift
)
if [ ! -x "$out/fuzz" ] || [ -n "$(find Fuzz/FuzzTargets.swift "${sources[@]}" -newer "$out/fuzz" 2>/dev/null)" ]; then
  echo "building the fuzz targets"
  # ld.gold warns about every ASan helper symbol; the log is shown only when the build fails.
  swiftc -O -sanitize=fuzzer,address -parse-as-library -swift-version 6 \
    -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility \
    -I Sources/CPCRE2 -Xlinker -l:libpcre2-8.a \
    -module-name LogSidecar "${sources[@]}" Fuzz/FuzzTargets.swift -o "$out/fuzz" > "$out/build.log" 2>&1 \
    || { grep -v "Cannot export local symbol" "$out/build.log"; exit 1; }
fi
status=0
for target in "${targets[@]}"; do
  corpus=$out/corpus/$target
  mkdir -p "$corpus"
  cp -n Fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  log=$out/$target.log
  echo "== $target: ${seconds}s"
  # Swift's own crash backtracer fights ASan's; libFuzzer's report is the one we want.
  if ! SWIFT_BACKTRACE=enable=no FUZZ_TARGET=$target "$out/fuzz" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$out/$target-" "$corpus" > "$log" 2>&1; then
    status=1
    tail -40 "$log"
  fi
  runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  echo "$target: ${runs:-?} executions, corpus $(ls "$corpus" | wc -l) inputs ($(du -sk "$corpus" | cut -f1) KiB)"
done
exit "$status"
