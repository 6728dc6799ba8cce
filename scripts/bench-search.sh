#!/usr/bin/env bash
# Benchmark of the known-value search in the whole audit: `droneaudit audit --zones Z --format
# json` on a generated mixed lab capture (DNS, TLS handshakes and records, QUIC, HTTP form posts
# and uploads, MQTT; internal/netfixture/genlab) with the search on (the default) and off
# (--no-search), three alternating runs each; prints the median wall and CPU time (user+sys) of
# each and the ratio. The zones are the demo's Belgian sites.
#
#   scripts/bench-search.sh [FRAMES] [WORKDIR]
#
# On the shared 2-core machines wall-clock ratios swing with the neighbours' load, CPU time much
# less. Needs GNU time (/usr/bin/time).
set -euo pipefail
frames=${1:-300000}
work=${2:-$(mktemp -d)}
cd "$(dirname "$0")/.."
mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { echo "bench-search: /usr/bin/time is not installed" >&2; exit 2; }
bin="$work/droneaudit"
go build -o "$bin" ./cmd/droneaudit
cap="$work/mix-$frames.pcap"
[ -s "$cap" ] || go run ./internal/netfixture/genlab -n "$frames" -bulk 1 -o "$cap" >&2
zones=internal/demo/belgian-sensitive-sites.geojson
cat "$cap" > /dev/null # page cache

measure() { # prints "wall cpu"
	/usr/bin/time -f '%e %U %S' "$@" > /dev/null 2> "$work/time" || true
	tail -n 1 "$work/time" | awk '{printf "%s %.2f\n", $1, $2 + $3}'
}
median() { sort -g | sed -n 2p; }
declare -A walls cpus
for round in 1 2 3; do
	for mode in search no-search; do
		flag=()
		[ "$mode" = no-search ] && flag=(--no-search)
		read -r w c < <(measure "$bin" audit --zones "$zones" --format json --log-level error "${flag[@]}" "$cap")
		walls[$mode]+="$w"$'\n'
		cpus[$mode]+="$c"$'\n'
	done
done
size=$(stat -c %s "$cap")
printf 'capture: %s frames, %d MB\n' "$frames" $((size / 1000000))
for mode in search no-search; do
	w=$(printf '%s' "${walls[$mode]}" | median)
	c=$(printf '%s' "${cpus[$mode]}" | median)
	printf '%-10s wall %6.2f s (%4.0f MB/s)  cpu %6.2f s (%4.0f MB/s)\n' "$mode" "$w" "$(echo "$size/1000000/$w" | bc -l)" "$c" "$(echo "$size/1000000/$c" | bc -l)"
done
ws=$(printf '%s' "${walls[search]}" | median); wn=$(printf '%s' "${walls[no-search]}" | median)
cs=$(printf '%s' "${cpus[search]}" | median); cn=$(printf '%s' "${cpus[no-search]}" | median)
printf 'speed with search / without: wall %.2f, cpu %.2f (target ≥ 0.5)\n' "$(echo "$wn/$ws" | bc -l)" "$(echo "$cn/$cs" | bc -l)"
