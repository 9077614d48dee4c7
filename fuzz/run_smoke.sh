#!/bin/sh
# run_smoke.sh BUILD_DIR SECONDS: runs every libFuzzer harness for SECONDS on a
# copy of its seed corpus, one after the other, and prints one line each:
#   PASS fuzz_x (N runs)     or     FAIL fuzz_x  followed by the crash report
# Exit status 1 if any failed.  Harnesses are found as fuzz/fuzz_*.c next to
# this script, so a new one needs no change here.  Never writes into
# fuzz/corpus; new inputs go to a temporary directory removed at the end, crash
# inputs are kept in BUILD_DIR/fuzz-artifacts/.  Bounded: each run is stopped
# by `timeout` at SECONDS + 60 s whatever happens, and only processes this
# script started are ever signalled.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
build=$1
secs=$2
case $secs in
'' | *[!0-9]*) echo "$0: SECONDS must be a whole number" >&2; exit 2 ;;
esac
[ "$secs" -ge 1 ] || { echo "$0: SECONDS must be at least 1" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd) || exit 2

# UBSan only reports and carries on unless told to stop: a finding must fail.
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export UBSAN_OPTIONS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/focal-fuzz.XXXXXX") || exit 2
child=
cleanup() {
	if [ -n "$child" ]; then
		kill "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

failed=0
found=0
for src in "$here"/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	found=$((found + 1))
	exe=$build/fuzz/$name
	if [ ! -x "$exe" ]; then
		echo "FAIL $name"
		echo "  not built: $exe (configure with -Dfuzz=true and run ninja)"
		failed=1
		continue
	fi
	work=$tmp/$name
	mkdir -p "$work/corpus" "$work/artifacts"
	if [ -d "$here/corpus/$name" ]; then
		cp -R "$here/corpus/$name/." "$work/corpus/"
	fi
	set -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/"
	if [ -f "$here/$name.dict" ]; then
		set -- "$@" -dict="$here/$name.dict"
	fi
	log=$work/log
	timeout --signal=TERM --kill-after=10 $((secs + 60)) "$exe" "$@" "$work/corpus" \
		>"$log" 2>&1 &
	child=$!
	wait "$child"
	rc=$?
	child=
	runs=$(sed -n 's/^Done \([0-9][0-9]*\) runs in.*/\1/p' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		echo "PASS $name ($runs runs)"
		continue
	fi
	failed=1
	echo "FAIL $name"
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "  did not stop within $((secs + 60)) s (exit $rc)"
	fi
	# the sanitizer's or libFuzzer's own report, then where the input is kept
	grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error:|    #[0-9]+ |==[0-9]+== ERROR: libFuzzer|MS: |Test unit written|Base64:)' \
		"$log" | head -n 40 | sed 's/^/  /'
	if ls "$work/artifacts/"* >/dev/null 2>&1; then
		keep=$build/fuzz-artifacts/$name
		mkdir -p "$keep"
		cp "$work/artifacts/"* "$keep/"
		echo "  input kept in $keep/ (reproduce: $exe $keep/<file>)"
	else
		tail -n 20 "$log" | sed 's/^/  /'
	fi
done
if [ "$found" -eq 0 ]; then
	echo "no harness found in $here" >&2
	exit 1
fi
exit "$failed"
