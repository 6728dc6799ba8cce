#!/usr/bin/env bash
# Benchmark of `droneaudit devices` against `droneaudit destinations` on the same generated
# capture of one million frames (issue 12). `devices` builds the destination inventory in the
# same pass and adds the device inventory, so it must be no slower: the two commands run
# alternately RUNS times each; the fastest and the median wall and CPU (user + system) times are
# printed. Needs GNU time (/usr/bin/time).
#
#   scripts/bench-devices.sh [FRAMES] [WORKDIR] [RUNS]
#
# Exits 1 when the fastest wall time of devices exceeds that of destinations by more than 5 %.
set -euo pipefail
frames=${1:-1000000}
work=${2:-$(mktemp -d)}
runs=${3:-9}
cd "$(dirname "$0")/.."
mkdir -p "$work"
cap="$work/lab.pcap"
bin="$work/droneaudit"
command -v /usr/bin/time >/dev/null || { echo "bench-devices: /usr/bin/time is not installed" >&2; exit 2; }

go build -o "$bin" ./cmd/droneaudit
[ -s "$cap" ] || go run ./internal/netfixture/genlab -n "$frames" -o "$cap"
ls -l "$cap"
cat "$cap" > /dev/null # page cache

: > "$work/times"
for i in $(seq "$runs"); do
	for cmd in destinations devices; do
		/usr/bin/time -f "$cmd %e %U %S %M" "$bin" "$cmd" --format json --log-level warn "$cap" 2>>"$work/times" >"$work/$cmd.json"
	done
done
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
fastest() { sort -g | head -1; }
for cmd in destinations devices; do
	wall=$(awk -v c="$cmd" '$1==c {print $2}' "$work/times" | median)
	best=$(awk -v c="$cmd" '$1==c {print $2}' "$work/times" | fastest)
	cpu=$(awk -v c="$cmd" '$1==c {print $3+$4}' "$work/times" | median)
	bestcpu=$(awk -v c="$cmd" '$1==c {print $3+$4}' "$work/times" | fastest)
	rss=$(awk -v c="$cmd" '$1==c {print $5}' "$work/times" | sort -g | tail -1)
	all=$(awk -v c="$cmd" '$1==c {printf "%s ", $2}' "$work/times")
	echo "$cmd: wall fastest ${best} s, median ${wall} s (runs: ${all}); CPU fastest ${bestcpu} s, median ${cpu} s; peak RSS $((rss / 1024)) MB"
	eval "${cmd}_best=$best"
done
python3 - "$work/destinations.json" "$work/devices.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); v = json.load(open(sys.argv[2]))
print(f"destinations: {len(d['destinations'])} rows; devices: {len(v['devices'])} rows, {v['packets']} packets")
PY
# The fastest run is the one the other loads of a shared machine disturbed least.
awk -v a="$devices_best" -v b="$destinations_best" 'BEGIN { r = a / b; printf "ratio devices / destinations (fastest runs): %.3f\n", r; if (r > 1.05) { print "FAIL: devices slower than destinations"; exit 1 } print "PASS: devices no slower than destinations (within 5 %)" }'
