#!/usr/bin/env bash
# Benchmarks of the audit spine (issue 2), in one run:
#  - go test -bench on one core: tlog position extraction beside gomavlib's own tlog reader on the
#    same data (the live baseline), and the DUML stream decoder;
#  - a full `droneaudit audit` of 100 MB and 1 GB tlogs and DUML streams under /usr/bin/time -v:
#    end-to-end throughput (SHA-256 plus decoding) and peak RSS, which must not grow with the input.
# pymavlink is not installable here (no PyPI); its figure (2.2-2.4 MB/s on this machine class) is
# quoted from ../shared/formats/mavlink-dataflash-ulog.md §8.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-bench-out}
mkdir -p "$out"
go build -o "$out/droneaudit" ./cmd/droneaudit
echo "== go test -bench (one core)"
go test -run '^$' -bench 'TlogPositions|BaselineGomavlibTlog' -benchmem -cpu 1 -count "${COUNT:-3}" ./decoders/mavlink/ | grep -E '^Bench'
go test -run '^$' -bench 'Scan' -benchmem -cpu 1 -count "${COUNT:-3}" ./decoders/duml/ | grep -E '^Bench'
for kind in tlog duml; do
  for size in 104857600 1073741824; do
    f="$out/big-$size.$kind"
    [ -f "$f" ] || go run ./scripts/mkbig -kind "$kind" -size "$size" -o "$f" >/dev/null
    /usr/bin/time -v "$out/droneaudit" audit --no-progress --format json "$f" >/dev/null 2>"$out/time.txt" || true
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time.txt")
    bytes=$(stat -c %s "$f")
    python3 - "$kind" "$bytes" "$secs" "$rss" <<'PY'
import sys
kind, n, t, rss = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
parts = [float(x) for x in t.split(':')]
secs = parts[-1] + (parts[-2] * 60 if len(parts) > 1 else 0) + (parts[-3] * 3600 if len(parts) > 2 else 0)
print(f"audit {kind:4s} {n/1e6:8.0f} MB  {secs:6.2f} s  {n/1e6/secs:7.1f} MB/s end to end  peak RSS {rss/1024:.0f} MiB")
PY
  done
done
