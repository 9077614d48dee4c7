#!/usr/bin/env bash
# The benchmark of Focal's federated search (see bench/README.md).
#
#   bench/run.sh [--latency-ms N] [--duration S] [--concurrency C] [--rows N]
#                [--pool-size N] [--no-fdw] [--no-ldap] [--hold S]
#
#   --latency-ms N   how long every PostgreSQL and HTTP source takes to answer
#                    (the slowest source); default 10
#   --duration S     seconds per measurement (throughput steps take S/2);
#                    default 10
#   --concurrency C  clients at saturation; default: raise 2, 4, 8 ... until
#                    throughput stops growing
#   --rows N         persons per source (default 5000); --pool-size N: postgres
#                    connections per source and loop (default 8); --no-fdw:
#                    skip the postgres_fdw comparison; --no-ldap: 26 sqlite,
#                    20 postgres, 14 http even if slapd runs; --hold S: set up, then
#                    keep everything running S seconds to look at by hand
#                    (prints the curl command), no measuring
#   --focald-only    60 SQLite sources that answer at once, no postgres_fdw:
#                    focald's own CPU per search, throughput and overhead
#   --callgrind N    count the instructions focald executes for N searches
#                    under valgrind (repeatable on a shared machine)
#   --workers N      focald's worker threads; --sqlite-immutable: open the
#                    SQLite files with immutable: true; --build DIR: measure
#                    the focald of another build
#   --audit-dir DIR  focald's audit log in DIR (e.g. /dev/shm): every search
#                    waits for its begin entry's fdatasync; this separates the
#                    disk's latency from focald's own
#
# Builds focald (scripts/build.sh -> build/) and bench/loadgen, starts a
# throwaway PostgreSQL 15 (tests/integration/pg_server.sh), slapd when
# tests/integration/slapd_server.sh exists, then bench/bench.py starts the
# HTTP back-end and focald and measures.  Everything listens on 127.0.0.1 and
# everything started is stopped on exit, however it ends.  Takes about 2-3
# minutes with the defaults (bounded: < 6).  Needs the packages of
# scripts/deps.sh --test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
case ${1:-} in -h | --help)
  sed -n '2,/^set -euo/p' bench/run.sh | sed '$d; s/^# \{0,1\}//'
  exit 0 ;;
esac

if ! scripts/build.sh; then
  echo "bench: the build failed; see: ninja -C build" >&2
  exit 1
fi

work=$(mktemp -d /tmp/focal-bench.XXXXXX)
chmod 755 "$work"   # PostgreSQL runs as user postgres when we are root
cleanup() {
  trap - EXIT INT TERM
  # processes bench.py started (it stops them itself; this covers a crash)
  if [ -f "$work/pids" ]; then
    while read -r pid; do
      if kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE 'focald|http_backend'; then
        kill "$pid" 2>/dev/null || true
      fi
    done <"$work/pids"
  fi
  tests/integration/pg_server.sh stop "$work/pg" >/dev/null 2>&1 || true
  if [ -x tests/integration/slapd_server.sh ]; then
    tests/integration/slapd_server.sh stop "$work/slapd" >/dev/null 2>&1 || true
  fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the load generator is the benchmark's, not focald's: built here, not by meson
# shellcheck disable=SC2046
cc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Werror bench/loadgen.c \
  -o "$work/loadgen" $(pkg-config --cflags --libs libcurl) -lm
cc -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Werror bench/wakeprobe.c \
  -o "$work/wakeprobe" -lpthread -lm

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pg=$(tests/integration/pg_server.sh start "$work/pg" "$(free_port)")
if [ -x tests/integration/slapd_server.sh ]; then
  if ldap_out=$(tests/integration/slapd_server.sh start "$work/slapd" "$(free_port)" 2>"$work/slapd.err"); then
    case $ldap_out in
    export*) eval "$ldap_out" ;;  # export FOCAL_TEST_LDAP=... lines
    *)  # the URI alone; the administrator is fixed (see slapd_server.sh)
      export FOCAL_TEST_LDAP=$ldap_out FOCAL_TEST_LDAP_BINDDN=cn=admin,dc=focal,dc=test \
        FOCAL_TEST_LDAP_PASSWORD=focal_admin_secret FOCAL_TEST_LDAP_BASE=dc=focal,dc=test ;;
    esac
  else
    echo "slapd did not start ($(tail -1 "$work/slapd.err")): LDAP sources left out"
  fi
fi

python3 bench/bench.py --workdir "$work" --build "$root/build" \
  --loadgen "$work/loadgen" --wakeprobe "$work/wakeprobe" --pg-dir "$work/pg" --pg "$pg" "$@"
