#!/usr/bin/env bash
# Benchmark of `droneaudit requests` against tshark decrypting the same generated HTTPS capture
# with the same key log, in one run (issue 15): both decrypt every TLS session and parse HTTP/1.1
# and HTTP/2 inside. Needs tshark (Debian package) and GNU time (/usr/bin/time).
#
#   RUNS=3 scripts/bench-tls.sh [MB] [WORKDIR] [QUIC_MB] [MIX_FRAMES]
#
# The two tools run alternately RUNS times (default 3) on the page-cached capture; each round and
# the medians of wall and CPU time (user + system) are printed, with the ratios of the medians and
# peak RSS. The shared 2-core machines make single runs of either tool swing by a third, so only
# medians of alternating rounds are compared. Checks that both list the same number of requests;
# exits 1 when droneaudit's median is not at least 10x faster than tshark's (wall).
# A QUIC line follows (QUIC_MB, default 100; 0 skips it): a generated HTTP/3 capture
# (internal/netfixture/genh3) read by `requests` and by tshark decrypting QUIC and finding the
# HTTP/3 HEADERS frames; it is reported, not judged.
# A lab-mix line follows (MIX_FRAMES, default 300000; 0 skips it): the project's generated lab
# capture (internal/netfixture/genlab, pcapng with its key log as a Decryption Secrets Block):
# thousands of short TLS sessions among DNS, clear HTTP, MQTT and QUIC, read by `requests` and by
# tshark with the same filter; reported, not judged (the two count requests differently there).
set -euo pipefail
mb=${1:-200}
work=${2:-$(mktemp -d)}
quic_mb=${3:-100}
mix_frames=${4:-300000}
runs=${RUNS:-3}
cd "$(dirname "$0")/.."
mkdir -p "$work"
cap="$work/bench-https.pcap"
keys="$work/bench-https.keys"
bin="$work/droneaudit"

for tool in tshark /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-tls: $tool is not installed" >&2; exit 2; }
done

go build -o "$bin" ./cmd/droneaudit
[ -s "$cap" ] || go run ./internal/netfixture/genhttps -mb "$mb" -o "$cap" -keylog "$keys"
ls -l "$cap"
cat "$cap" > /dev/null # warm the page cache so both tools read from memory

measure() { # name, command...: prints "wall cpu rss"
	local name=$1; shift
	/usr/bin/time -v "$@" > "$work/$name.out" 2> "$work/$name.time"
	awk -F': ' '
		/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; wall=s}
		/User time/ {u=$2} /System time/ {y=$2}
		/Maximum resident set size/ {rss=$2}
		END {printf "%s %.2f %s\n", wall, u+y, rss}' "$work/$name.time"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > "$work/rounds"
for r in $(seq "$runs"); do
	read -r ours_s ours_cpu ours_kb < <(measure droneaudit "$bin" requests --format json --log-level warn --keylog "$keys" "$cap")
	read -r tshark_s tshark_cpu tshark_kb < <(measure tshark tshark -n -r "$cap" -o "tls.keylog_file:$keys" -Y "http.request || http2.type == 1" \
		-T fields -e http.request.uri -e http2.headers.path)
	echo "$ours_s $ours_cpu $ours_kb $tshark_s $tshark_cpu $tshark_kb" >> "$work/rounds"
	echo "round $r: droneaudit ${ours_s} s wall, ${ours_cpu} s CPU; tshark ${tshark_s} s wall, ${tshark_cpu} s CPU"
done
ours_s=$(cut -d' ' -f1 "$work/rounds" | median); ours_cpu=$(cut -d' ' -f2 "$work/rounds" | median)
ours_kb=$(cut -d' ' -f3 "$work/rounds" | sort -n | tail -1)
tshark_s=$(cut -d' ' -f4 "$work/rounds" | median); tshark_cpu=$(cut -d' ' -f5 "$work/rounds" | median)
tshark_kb=$(cut -d' ' -f6 "$work/rounds" | sort -n | tail -1)
ours_n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["requests"]))' "$work/droneaudit.out")
tshark_n=$(awk -F'\t' '$1 != "" || $2 != "" {n += split($1 $2, x, ",")} END {print n + 0}' "$work/tshark.out")
wall_ratio=$(awk -v a="$tshark_s" -v b="$ours_s" 'BEGIN {printf "%.1f", a / b}')
cpu_ratio=$(awk -v a="$tshark_cpu" -v b="$ours_cpu" 'BEGIN {printf "%.1f", a / (b > 0 ? b : 0.01)}')
echo "capture: $(du -mL "$cap" | cut -f1) MB, $(nproc) cores (shared)"
echo "droneaudit requests (median of $runs): wall ${ours_s} s, CPU ${ours_cpu} s, peak RSS $((ours_kb / 1024)) MB, ${ours_n} requests"
echo "tshark (decrypt, http + http2; median of $runs): wall ${tshark_s} s, CPU ${tshark_cpu} s, peak RSS $((tshark_kb / 1024)) MB, ${tshark_n} requests"
echo "ratio of the medians (tshark / droneaudit): wall ${wall_ratio}x, CPU ${cpu_ratio}x"
if [ "$quic_mb" -gt 0 ]; then
	qcap="$work/bench-h3.pcap"
	qkeys="$work/bench-h3.keys"
	[ -s "$qcap" ] || go run ./internal/netfixture/genh3 -mb "$quic_mb" -o "$qcap" -keylog "$qkeys"
	cat "$qcap" > /dev/null
	read -r q_s q_cpu q_kb < <(measure droneaudit-h3 "$bin" requests --format json --log-level warn --keylog "$qkeys" "$qcap")
	read -r qt_s qt_cpu qt_kb < <(measure tshark-h3 tshark -n -r "$qcap" -o "tls.keylog_file:$qkeys" -Y "http3.frame_type == 1" -T fields -e quic.stream.stream_id)
	q_n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["requests"]))' "$work/droneaudit-h3.out")
	echo "QUIC capture: $(du -mL "$qcap" | cut -f1) MB"
	echo "droneaudit requests (QUIC + HTTP/3): wall ${q_s} s, CPU ${q_cpu} s, peak RSS $((q_kb / 1024)) MB, ${q_n} requests"
	echo "tshark (decrypt QUIC, http3 HEADERS): wall ${qt_s} s, CPU ${qt_cpu} s, peak RSS $((qt_kb / 1024)) MB, $(wc -l < "$work/tshark-h3.out") packets with HEADERS"
	echo "QUIC ratio (tshark / droneaudit): wall $(awk -v a="$qt_s" -v b="$q_s" 'BEGIN {printf "%.1f", a / b}')x, CPU $(awk -v a="$qt_cpu" -v b="$q_cpu" 'BEGIN {printf "%.1f", a / (b > 0 ? b : 0.01)}')x"
fi
if [ "$mix_frames" -gt 0 ]; then
	mcap="$work/bench-lab-$mix_frames.pcapng"
	[ -s "$mcap" ] || go run ./internal/netfixture/genlab -n "$mix_frames" -o "$mcap"
	cat "$mcap" > /dev/null
	read -r m_s m_cpu m_kb < <(measure droneaudit-mix "$bin" requests --format json --log-level error "$mcap")
	read -r mt_s mt_cpu mt_kb < <(measure tshark-mix tshark -n -r "$mcap" -Y "http.request || http2.type == 1" -T fields -e http.request.uri -e http2.headers.path)
	m_n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["requests"]))' "$work/droneaudit-mix.out")
	echo "lab mix capture: $(du -mL "$mcap" | cut -f1) MB, $mix_frames frames, keys in its DSB"
	echo "droneaudit requests (lab mix): wall ${m_s} s, CPU ${m_cpu} s, peak RSS $((m_kb / 1024)) MB, ${m_n} rows (HTTP and MQTT)"
	echo "tshark (lab mix, http + http2): wall ${mt_s} s, CPU ${mt_cpu} s, peak RSS $((mt_kb / 1024)) MB, $(grep -c . "$work/tshark-mix.out") HTTP request lines"
	echo "lab mix ratio (tshark / droneaudit): wall $(awk -v a="$mt_s" -v b="$m_s" 'BEGIN {printf "%.1f", a / b}')x, CPU $(awk -v a="$mt_cpu" -v b="$m_cpu" 'BEGIN {printf "%.1f", a / (b > 0 ? b : 0.01)}')x"
fi
if [ "$ours_n" != "$tshark_n" ]; then
	echo "bench-tls: droneaudit lists $ours_n requests, tshark $tshark_n" >&2
	exit 1
fi
awk -v r="$wall_ratio" 'BEGIN {exit !(r >= 10)}' || { echo "bench-tls: below the 10x target" >&2; exit 1; }
