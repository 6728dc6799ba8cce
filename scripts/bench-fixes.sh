#!/usr/bin/env bash
# Issue: `droneaudit fixes --format ndjson` within 1.5x of the audit's decode time on a 256 MB
# DataFlash log, measured in the same run. Generates a position-dense DataFlash log (scripts/mkbig
# -kind dataflash: a third of the messages are GPS or POS), then runs, alternating, RUNS times
# each and for each binary:
#   (a) droneaudit audit --format json LOG              decode only: no zones
#   (b) droneaudit fixes --format ndjson LOG > /dev/null
# under /usr/bin/time, and prints wall and CPU (user+sys) seconds and peak RSS of every run, then
# per binary the medians of the times and of the per-round ratios b/a of CPU and wall time.
#
#   scripts/bench-fixes.sh [OLD_BINARY] [WORKDIR]
#
# OLD_BINARY (default /tmp/droneaudit-old) is measured beside the binary built from this tree;
# pass "" to measure this tree only. SIZE (bytes, default 256 MiB) and RUNS (default 3) come from
# the environment.
set -euo pipefail
old=${1-/tmp/droneaudit-old}
work=${2:-$(mktemp -d)}
size=${SIZE:-268435456}
runs=${RUNS:-3}
cd "$(dirname "$0")/.."
mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { echo "bench-fixes: needs GNU time (/usr/bin/time)" >&2; exit 2; }
new="$work/droneaudit"
go build -o "$new" ./cmd/droneaudit
log="$work/dataflash-$size.bin"
[ -s "$log" ] || go run ./scripts/mkbig -kind dataflash -size "$size" -o "$log"
cat "$log" > /dev/null # warm the page cache
bins=(new)
[ -n "$old" ] && bins=(old new)
declare -A path=([new]="$new" [old]="$old")

# measure NAME ARGS...: one run; appends "wall cpu rss" to $work/NAME.times.
measure() {
	local name=$1; shift
	/usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" > /dev/null 2> "$work/stderr.txt" || true
	read -r wall user sys rss < <(tail -n 1 "$work/time.txt") # the last line: an exit status line may come first
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')
	printf '%-10s wall %6.2f s  cpu %6.2f s (user %s, sys %s)  rss %d MiB\n' "$name" "$wall" "$cpu" "$user" "$sys" $((rss / 1024))
	echo "$wall $cpu $rss" >> "$work/$name.times"
}

echo "log: $log, $(stat -c %s "$log") bytes; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
for b in "${bins[@]}"; do rm -f "$work/$b-audit.times" "$work/$b-fixes.times"; done
for i in $(seq "$runs"); do
	for b in "${bins[@]}"; do
		measure "$b-audit" "${path[$b]}" audit --no-progress --log-level error --format json "$log"
		measure "$b-fixes" "${path[$b]}" fixes --no-progress --log-level error --format ndjson "$log"
	done
done
# check that both binaries printed the same fixes
if [ -n "$old" ]; then
	a=$("$old" fixes --no-progress --log-level error --format ndjson "$log" | sha256sum)
	b=$("$new" fixes --no-progress --log-level error --format ndjson "$log" | sha256sum)
	[ "$a" = "$b" ] && echo "fixes output: identical (${a%% *})" || { echo "fixes output differs" >&2; exit 1; }
fi
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# Ratios are taken per round (fixes and audit of one binary run back to back, so under the same
# load of a shared machine), then the median over the rounds; the medians of the times follow.
echo "medians of $runs rounds:"
for b in "${bins[@]}"; do
	rw=$(paste -d' ' "$work/$b-fixes.times" "$work/$b-audit.times" | awk '{print $1 / $4}' | median)
	rc=$(paste -d' ' "$work/$b-fixes.times" "$work/$b-audit.times" | awk '{print $2 / $5}' | median)
	aw=$(cut -d' ' -f1 "$work/$b-audit.times" | median); ac=$(cut -d' ' -f2 "$work/$b-audit.times" | median)
	fw=$(cut -d' ' -f1 "$work/$b-fixes.times" | median); fc=$(cut -d' ' -f2 "$work/$b-fixes.times" | median)
	awk -v b="$b" -v aw="$aw" -v ac="$ac" -v fw="$fw" -v fc="$fc" -v rw="$rw" -v rc="$rc" 'BEGIN {
		printf "%-4s audit wall %.2f s cpu %.2f s | fixes wall %.2f s cpu %.2f s | fixes/audit: cpu %.2fx, wall %.2fx\n", b, aw, ac, fw, fc, rc, rw }'
done
