#!/usr/bin/env bash
# Runs every go test -fuzz target of the project for DURATION each, JOBS at a time, and prints one
# line per target: package, target, executions, new interesting inputs, crashes. A crash leaves its
# input under the package's testdata/fuzz/TARGET/ (commit it as a seed once the bug is fixed).
#
#   scripts/fuzz-all.sh [DURATION] [JOBS] [OUT]     e.g. scripts/fuzz-all.sh 2m 2 /tmp/fuzz
#
# -fuzzminimizetime is kept small: with Go's default (60 s) a target that finds new inputs spends
# its time shrinking them instead of executing.
set -uo pipefail
duration=${1:-2m}
jobs=${2:-2}
out=${3:-$(mktemp -d)}
cd "$(dirname "$0")/.."
mkdir -p "$out"

targets=()
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	ls "$dir"/*_test.go >/dev/null 2>&1 || continue
	for t in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz'); do
		targets+=("$pkg $t")
	done
done
echo "fuzz-all: ${#targets[@]} targets, $duration each, $jobs at a time; logs in $out" >&2

run() { # pkg target
	local pkg=$1 t=$2 log
	log="$out/$(echo "$pkg" | tr / _)-$t.log"
	go test -run '^$' -fuzz "^$t\$" -fuzztime "$duration" -fuzzminimizetime=10x -parallel 1 "$pkg" > "$log" 2>&1
	local rc=$?
	local execs interesting crash=0
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}')
	interesting=$(grep -o 'new interesting: [0-9]*' "$log" | tail -1 | awk '{print $3}')
	if grep -q 'Failing input written' "$log" || { [ $rc -ne 0 ] && ! grep -q 'context deadline exceeded' "$log"; }; then
		crash=1
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "${pkg#droneaudit/}" "$t" "${execs:-0}" "${interesting:-0}" "$crash"
}
export -f run
export out duration
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -L 1 bash -c 'run $0 $1' | sort | tee "$out/summary.tsv"
