#!/bin/sh
# pg_server.sh: a throwaway PostgreSQL cluster for the integration tests.
#
#   pg_server.sh start DIR PORT   init a cluster in DIR/data, listen ONLY on
#                                 127.0.0.1:PORT, create database focal_test;
#                                 prints the conninfo for FOCAL_TEST_PG
#   pg_server.sh stop DIR         stop it (fast); safe to call twice
#
# Authentication is trust for every local user except the role focal_pw
# (password focal_pw_secret, scram-sha-256), so tests can check both a plain
# connection and an authentication failure.  Durability is switched off: the
# data is thrown away.  Runs as root (initdb refuses root, so the server runs
# as user postgres via runuser) or as an ordinary user, with no stdin.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

usage() {
	echo "usage: $0 start DIR PORT | stop DIR" >&2
	exit 2
}

# as_pg CMD...: runs CMD as the cluster owner
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@" </dev/null
	else
		"$@" </dev/null
	fi
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2

case $cmd in
start)
	[ $# -eq 3 ] || usage
	port=$3
	case $port in '' | *[!0-9]*) echo "$0: PORT must be a number" >&2; exit 2 ;; esac
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ -f "$dir/data/postmaster.pid" ]; then
		echo "$0: a server already runs in $dir (stop it first)" >&2
		exit 1
	fi
	rm -rf "$dir/data"
	if [ "$(id -u)" = 0 ]; then
		chown postgres "$dir"
		# the postgres user must be able to reach DIR
		if ! runuser -u postgres -- test -w "$dir" </dev/null; then
			echo "$0: user postgres cannot write $dir (a parent directory is closed?)" >&2
			exit 1
		fi
	fi
	as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
		--no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
shared_buffers = 16MB
log_min_messages = warning
EOF
	cat >"$dir/data/pg_hba.conf" <<EOF
local all all trust
host all focal_pw 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
EOF
	if ! as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
		>/dev/null; then
		cat "$dir/server.log" >&2 || true
		exit 1
	fi
	as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres \
		-d postgres -c "CREATE DATABASE focal_test" \
		-c "CREATE ROLE focal_pw LOGIN PASSWORD 'focal_pw_secret'" >/dev/null || {
		echo "$0: setup failed" >&2
		exit 1
	}
	echo "host=127.0.0.1 port=$port dbname=focal_test user=postgres"
	;;
stop)
	[ $# -eq 2 ] || usage
	[ -d "$dir/data" ] || exit 0
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			[ ! -f "$dir/data/postmaster.pid" ]
	fi
	;;
*)
	usage
	;;
esac
