#!/usr/bin/env bash
# Sets up and runs every test of Focal; the README's test command.
#
#  1. installs the Debian packages (scripts/deps.sh --test) and builds twice:
#     build/ and build-asan/ (AddressSanitizer + UndefinedBehaviorSanitizer)
#  2. starts real servers on 127.0.0.1 (throwaway dirs under tests/out/):
#     PostgreSQL 15, OpenLDAP slapd, the HTTP JSON test server
#  3. runs the cmocka unit and integration tests (meson test) in both builds,
#     the system tests of focald (tests/system) against the sanitizer build,
#     the banned-function check (scripts/check_style.sh) and the libFuzzer
#     harnesses briefly (clang)
#  4. stops every server it started and prints "N passed, N failed" last
#
# FOCAL_FUZZ_SECONDS (default 20) sets the time per fuzz harness; 0 skips them.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/tests/out
fuzz_seconds=${FOCAL_FUZZ_SECONDS:-20}

scripts/deps.sh --test || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
scripts/build.sh --asan || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

rm -rf "$out"
mkdir -p "$out"
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  tests/integration/pg_server.sh stop "$out/pg" >/dev/null 2>&1
  tests/integration/slapd_server.sh stop "$out/slapd" >/dev/null 2>&1
  wait 2>/dev/null
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

passed=0 failed=0 skipped=0
# --- servers (one that does not start is a failure: tests would only skip) ---
pg_port=$(free_port)
if conninfo=$(tests/integration/pg_server.sh start "$out/pg" "$pg_port" 2>"$out/pg.err"); then
  export FOCAL_TEST_PG=$conninfo
else
  echo "FAIL PostgreSQL did not start: $(tail -3 "$out/pg.err")"; failed=$((failed + 1))
fi
ldap_port=$(free_port)
if ldap_uri=$(tests/integration/slapd_server.sh start "$out/slapd" "$ldap_port" 2>"$out/slapd.err"); then
  # the administrator and suffix that slapd_server.sh creates
  export FOCAL_TEST_LDAP=$ldap_uri FOCAL_TEST_LDAP_BINDDN="cn=admin,dc=focal,dc=test" \
         FOCAL_TEST_LDAP_PASSWORD=focal_admin_secret FOCAL_TEST_LDAP_BASE="dc=focal,dc=test" \
         FOCAL_TEST_LDAP_CA="$out/slapd/tls/ca.pem"
else
  echo "FAIL slapd did not start: $(tail -3 "$out/slapd.err")"; failed=$((failed + 1))
fi
python3 tests/integration/http_server.py 0 tests/system/http_data.json >"$out/http.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q '^listening' "$out/http.out" 2>/dev/null && break; sleep 0.05; done
http_addr=$(sed -n 's/^listening //p' "$out/http.out" | head -1)
if [ -n "$http_addr" ]; then export FOCAL_TEST_HTTP="http://$http_addr"
else echo "FAIL the HTTP test server did not start"; failed=$((failed + 1)); fi

# --- cmocka tests, counted per test case from meson's log -------------------
count_meson() {
  local dir=$1 label=$2
  meson test -C "$dir" --print-errorlogs --num-processes 2 >"$out/meson-$label.txt" 2>&1
  local counts
  counts=$(python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, re, sys
p = f = s = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    out = (t.get("stdout") or "") + (t.get("stderr") or "")
    # cmocka: "[  PASSED  ] 7 test(s)." / "[  FAILED  ] 1 test(s), listed below:"
    mp = re.findall(r"\[  PASSED  \] (\d+) test", out)
    mf = re.findall(r"\[  FAILED  \] (\d+) test", out)
    ms = re.findall(r"\[  SKIPPED \] (\d+) test", out)
    if t["result"] not in ("OK", "SKIP", "EXPECTEDFAIL") and not mf:
        f += 1          # crashed or timed out: counts as one failure
    f += sum(map(int, mf))
    p += sum(map(int, mp))
    s += sum(map(int, ms))
print(p, f, s)
PY
)
  read -r p f s <<<"$counts"
  echo "$label: $p passed, $f failed, $s skipped (cmocka cases)"
  [ "$f" -gt 0 ] && grep -E "FAILED|ERROR|runtime error|Sanitizer" "$out/meson-$label.txt" | head -40
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}
count_meson build plain
count_meson build-asan asan

# --- system tests of focald (sanitizer build) -------------------------------
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# every server was started above: a system test that would skip for want of
# one is a failure here
# Every tests/system/test_*.py prints "system: N passed, N failed" last; one
# that prints nothing (crashed) counts as a failure.
for t in tests/system/test_*.py; do
  name=$(basename "$t" .py)
  FOCAL_REQUIRE_SERVERS=1 python3 "$t" build-asan | tee "$out/$name.txt"
  read -r p f <<<"$(sed -n 's/^system: \([0-9]*\) passed, \([0-9]*\) failed.*$/\1 \2/p' "$out/$name.txt")"
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
done
unset ASAN_OPTIONS UBSAN_OPTIONS

# --- style: no banned C functions in src/ (one test) -------------------------
if scripts/check_style.sh >"$out/style.txt" 2>&1; then echo "PASS style"; passed=$((passed + 1))
else echo "FAIL style:"; sed 's/^/  /' "$out/style.txt"; failed=$((failed + 1)); fi

# --- fuzz harnesses, briefly -------------------------------------------------
if [ "$fuzz_seconds" -gt 0 ] && [ -f fuzz/meson.build ]; then
  if { [ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true \
         -Db_sanitize=address,undefined -Db_lundef=false >"$out/fuzz-setup.txt" 2>&1; } &&
     ninja -C build-fuzz >"$out/fuzz-build.txt" 2>&1; then
    fuzz/run_smoke.sh build-fuzz "$fuzz_seconds" | tee "$out/fuzz.txt"
    passed=$((passed + $(grep -c '^PASS' "$out/fuzz.txt"))); failed=$((failed + $(grep -c '^FAIL' "$out/fuzz.txt")))
  else
    echo "FAIL fuzz build: $(tail -5 "$out/fuzz-build.txt" 2>/dev/null)"; failed=$((failed + 1))
  fi
fi

cleanup
trap - EXIT
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
