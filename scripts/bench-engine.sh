#!/usr/bin/env bash
# Benchmark of the one-pass engine (issue "One engine"): the whole `droneaudit audit --zones Z
# --format json` on a realistic small-packet lab capture (DNS, TLS handshakes, QUIC, HTTP form
# posts, MQTT; made by the project's generator), side by side in one run with
#   - tcpdump -r FILE -w /dev/null (the floor: reading and writing the packets, nothing decoded),
#   - the audit of the binary built from OLD_REV (before the engine: three passes),
#   - `droneaudit destinations` of both binaries (the inventory alone),
# and the peak memory of the new audit as the capture grows from ~100 MB to ~1 GB.
#
#   scripts/bench-engine.sh [FRAMES] [WORKDIR] [OLD_REV]
#
# Every figure is the median of RUNS (default 3) alternating runs, in wall time and in CPU time (user+sys):
# on the shared 2-core machines wall-clock ratios swing with the neighbours' load, CPU time much
# less. Needs tcpdump (Debian package) and GNU time (/usr/bin/time).
set -euo pipefail
frames=${1:-900000}
work=${2:-$(mktemp -d)}
old_rev=${3:-678bed7}
cd "$(dirname "$0")/.."
mkdir -p "$work"
for tool in tcpdump /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-engine: $tool is not installed" >&2; exit 2; }
done

new="$work/droneaudit-new"
old="$work/droneaudit-old"
go build -o "$new" ./cmd/droneaudit
if [ ! -x "$old" ]; then
	tree="$work/old-tree"
	rm -rf "$tree"
	git worktree add -q --detach "$tree" "$old_rev"
	(cd "$tree" && go build -o "$old" ./cmd/droneaudit)
	git worktree remove --force "$tree"
fi

cap="$work/mix-$frames.pcap"
[ -s "$cap" ] || go run ./internal/netfixture/genlab -n "$frames" -bulk 1 -o "$cap" >&2
zones="$work/zones.geojson"
cat > "$zones" <<'EOF'
{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Lab zone","sensitivity":"secret","radius_m":500},"geometry":{"type":"Point","coordinates":[113.7034,22.9079]}}]}
EOF

# measure NAME COMMAND...: prints "wall cpu rss_kb" of one run.
measure() {
	local name=$1; shift
	/usr/bin/time -f '%e %U %S %M' "$@" > /dev/null 2> "$work/$name.time" || true
	tail -n 1 "$work/$name.time" | awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}'
}
runs=${RUNS:-3}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

declare -A cmds=(
	[tcpdump]="tcpdump -r $cap -w /dev/null"
	[audit-old]="$old audit --zones $zones --format json --log-level error $cap"
	[audit-new]="$new audit --zones $zones --format json --log-level error $cap"
	[destinations-old]="$old destinations --format json --log-level error $cap"
	[destinations-new]="$new destinations --format json --log-level error $cap"
)
order=(tcpdump audit-old audit-new destinations-old destinations-new)
cat "$cap" > /dev/null # page cache: every tool reads from memory
declare -A walls cpus rss
for round in $(seq "$runs"); do
	for name in "${order[@]}"; do
		read -r w c m < <(measure "$name" ${cmds[$name]})
		walls[$name]+="$w "
		cpus[$name]+="$c "
		rss[$name]=$(( ${rss[$name]:-0} > m ? ${rss[$name]:-0} : m ))
	done
done

size=$(stat -c %s "$cap")
echo "capture: $cap, $frames frames, $((size / 1000000)) MB; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-18s %8s %8s %9s %11s %11s\n' tool wall_s cpu_s rss_MB wall/tcpdump cpu/tcpdump
tw=$(echo "${walls[tcpdump]}" | tr ' ' '\n' | sed '/^$/d' | median)
tc=$(echo "${cpus[tcpdump]}" | tr ' ' '\n' | sed '/^$/d' | median)
for name in "${order[@]}"; do
	w=$(echo "${walls[$name]}" | tr ' ' '\n' | sed '/^$/d' | median)
	c=$(echo "${cpus[$name]}" | tr ' ' '\n' | sed '/^$/d' | median)
	awk -v n="$name" -v w="$w" -v c="$c" -v m="${rss[$name]}" -v tw="$tw" -v tc="$tc" \
		'BEGIN {printf "%-18s %8.2f %8.2f %9.1f %10.1fx %10.1fx\n", n, w, c, m / 1024, w / tw, c / (tc > 0 ? tc : 0.01)}'
done

# Flat memory: the new audit's peak RSS on captures of growing size (GROW=0 skips it).
[ "${GROW:-1}" = 0 ] && exit 0
echo
echo "peak RSS of the new audit as the capture grows:"
for n in 300000 3000000; do
	big="$work/mix-$n.pcap"
	[ -s "$big" ] || go run ./internal/netfixture/genlab -n "$n" -bulk 1 -o "$big" >&2
	read -r w c m < <(measure "grow-$n" "$new" audit --zones "$zones" --format json --log-level error "$big")
	echo "  $n frames, $(( $(stat -c %s "$big") / 1000000 )) MB: peak RSS $((m / 1024)) MB, wall $w s, cpu $c s"
done
