#!/usr/bin/env bash
# Issue 6: `droneaudit audit DIR` on a folder of 1,000 logs decodes files in parallel on all
# cores. Builds the folder from the corpus's autopilot logs (DataFlash, ULog, tlog; copies under
# distinct names), then reports wall time, CPU time and the CPU percentage from /usr/bin/time -v
# (above 100 % means more than one core was busy), once with one worker and once with all cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-bench-out}
corpus=../shared/corpus
mkdir -p "$out"
go build -o "$out/droneaudit" ./cmd/droneaudit
dir="$out/folder-1000"
rm -rf "$dir" && mkdir -p "$dir"
seeds=()
for f in dataflash/arduplane_sitl_64k-truncated.BIN ulog/pyulog_sample_log_small.ulg ulog/yule_trig_stats.ulg \
         mavlink/mav2_battery_status_1record.tlog mavlink/arduplane_vtol_sitl_mav1.tlog; do
  [ -f "$corpus/$f" ] && seeds+=("$corpus/$f")
done
[ "${#seeds[@]}" -gt 0 ] || { echo "needs ../shared/corpus"; exit 1; }
for i in $(seq 0 999); do
  s=${seeds[$((i % ${#seeds[@]}))]}
  cp "$s" "$dir/$(printf 'log%04d' "$i")_$(basename "$s")"
done
echo "folder: $(ls "$dir" | wc -l) files, $(du -sh "$dir" | cut -f1)"
for workers in 1 0; do
  if [ "$workers" = 1 ]; then env="GOMAXPROCS=1"; label="one core (GOMAXPROCS=1)"; else env=""; label="all $(nproc) cores"; fi
  /usr/bin/time -v env $env "$out/droneaudit" audit --no-progress --format json "$dir" >/dev/null 2>"$out/folder-time.txt" || true
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/folder-time.txt")
  cpu=$(awk -F': ' '/Percent of CPU/ {print $2}' "$out/folder-time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/folder-time.txt")
  echo "$label: wall $wall, CPU $cpu, peak RSS $((rss / 1024)) MiB"
done
