#!/usr/bin/env bash
# Runs a real PostgreSQL server (Debian's packages) on loopback for the
# analytics oracle tests (analytics/oracle).
#
#   scripts/pg-server.sh start    initdb a fresh cluster and start it (no-op if running)
#   scripts/pg-server.sh env      print `export SPATE_TEST_PG_URL=...`
#   scripts/pg-server.sh stop     stop it and delete its data (no-op if stopped)
#   scripts/pg-server.sh status   exit 0 if it is running and accepting connections
#
# Typical use:  scripts/pg-server.sh start && eval "$(scripts/pg-server.sh env)"
#
# The server listens on 127.0.0.1 only, on a free port, with trust
# authentication (it holds nothing but generated test data and cannot be
# reached from another machine). Its cluster lives in .tools/pg-server/data
# (unix socket in that directory too), its log in .tools/pg-server/postgres.log,
# and .tools/pg-server.env records how to reach it (SPATE_TEST_PG_URL,
# SPATE_TEST_PG_PORT, SPATE_TEST_PG_DATA). Tests read SPATE_TEST_PG_URL and
# talk to the server with psql, so any PostgreSQL 14 or later can stand in:
# set the variable.
#
# The binaries come from Debian's postgresql package (scripts/test-deps.sh
# installs it): the newest /usr/lib/postgresql/*/bin. initdb refuses to run as
# root, so as root the cluster is created and run by the package's `postgres`
# system user (created here if missing) and its directory belongs to that user.
set -euo pipefail

DB_USER=spate # the cluster's superuser, whatever OS user runs it
DB_NAME=postgres

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state_dir="$root/.tools/pg-server"
data_dir="$state_dir/data"
log="$state_dir/postgres.log"
env_file="$root/.tools/pg-server.env"

say() { echo "pg-server: $*" >&2; }

# bin_dir: the newest installed PostgreSQL server's bin directory.
bin_dir() {
	local dir best=""
	for dir in /usr/lib/postgresql/*/bin; do
		[[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] || continue
		if [[ -z "$best" || "$(basename "$(dirname "$dir")")" -gt "$(basename "$(dirname "$best")")" ]]; then
			best="$dir"
		fi
	done
	if [[ -z "$best" ]]; then
		say "no PostgreSQL server in /usr/lib/postgresql/*/bin; run scripts/test-deps.sh (installs Debian's postgresql)"
		exit 1
	fi
	echo "$best"
}

# as_owner CMD...: run CMD as the user that owns the cluster: the postgres
# system user when we are root (initdb and postgres refuse root), else us.
as_owner() {
	if [[ "$(id -u)" -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

ensure_postgres_user() {
	[[ "$(id -u)" -eq 0 ]] || return 0
	if ! id -u postgres >/dev/null 2>&1; then
		say "creating the postgres system user"
		useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
	fi
}

# ready PORT: exit 0 if the server on 127.0.0.1:PORT accepts connections.
ready() {
	"$(bin_dir)/pg_isready" -q -h 127.0.0.1 -p "$1" -d "$DB_NAME" -U "$DB_USER" -t 2 2>/dev/null
}

# running: exit 0 if the state file names a live server that answers.
running() {
	[[ -f "$env_file" ]] || return 1
	local port data
	port="$(sed -n 's/^SPATE_TEST_PG_PORT=//p' "$env_file")"
	data="$(sed -n 's/^SPATE_TEST_PG_DATA=//p' "$env_file")"
	[[ -n "$port" && -f "$data/postmaster.pid" ]] || return 1
	ready "$port"
}

# shellcheck source=lib-port.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-port.sh"

start() {
	if running; then
		say "already running ($(sed -n 's/^SPATE_TEST_PG_URL=//p' "$env_file"))"
		return
	fi
	stop_quietly
	ensure_postgres_user
	local bin port
	bin="$(bin_dir)"
	mkdir -p "$state_dir"
	if [[ "$(id -u)" -eq 0 ]]; then
		chown postgres: "$state_dir"
		if ! runuser -u postgres -- test -w "$state_dir"; then
			say "the postgres user cannot reach $state_dir (a parent directory is not searchable); make it searchable (chmod o+x) or run as a non-root user"
			exit 1
		fi
	fi
	if ! as_owner "$bin/initdb" -D "$data_dir" -U "$DB_USER" --auth=trust \
		--encoding=UTF8 --locale=C --no-sync >"$state_dir/initdb.log" 2>&1; then
		say "initdb failed; log:"
		cat "$state_dir/initdb.log" >&2
		exit 1
	fi
	# Loopback only; the socket beside the data, not in /var/run/postgresql
	# (which may not exist or belong to someone else). Unix socket paths are
	# limited to 107 bytes: a deeper checkout does without the socket.
	local sockets="$data_dir"
	if ((${#data_dir} > 90)); then
		sockets=""
	fi
	cat >>"$data_dir/postgresql.conf" <<-EOF

		# scripts/pg-server.sh: a throwaway test server
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$sockets'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_connections = 50
		shared_buffers = 64MB
	EOF
	for _ in 1 2 3 4 5; do
		port="$(pick_port)"
		if as_owner "$bin/pg_ctl" start -D "$data_dir" -l "$log" -w -t 60 \
			-o "-p $port" >/dev/null 2>&1 && ready "$port"; then
			umask 077
			cat >"$env_file" <<-EOF
				SPATE_TEST_PG_URL=postgres://$DB_USER@127.0.0.1:$port/$DB_NAME?sslmode=disable
				SPATE_TEST_PG_PORT=$port
				SPATE_TEST_PG_DATA=$data_dir
			EOF
			say "PostgreSQL $(basename "$(dirname "$bin")") on 127.0.0.1:$port (data $data_dir)"
			return
		fi
		as_owner "$bin/pg_ctl" stop -D "$data_dir" -m immediate >/dev/null 2>&1 || true
		if ! grep -qi "could not bind\|address already in use" "$log" 2>/dev/null; then
			say "postgres did not start; log:"
			cat "$log" >&2 2>/dev/null || true
			exit 1
		fi
	done
	say "could not bind a port after 5 tries"
	exit 1
}

# stop_quietly: stop the server, if any, and delete its data.
stop_quietly() {
	if [[ -f "$data_dir/postmaster.pid" ]]; then
		# pg_ctl reads the pid from postmaster.pid and checks it is that
		# cluster's postmaster, so a reused pid is not signalled.
		as_owner "$(bin_dir)/pg_ctl" stop -D "$data_dir" -m fast -w -t 30 >/dev/null 2>&1 ||
			as_owner "$(bin_dir)/pg_ctl" stop -D "$data_dir" -m immediate >/dev/null 2>&1 || true
	fi
	rm -f "$env_file"
	rm -rf "$state_dir"
}

case "${1:-}" in
start)
	start
	;;
env)
	if ! running; then
		say "not running; run: scripts/pg-server.sh start"
		exit 1
	fi
	# Quoted: the URL holds a '?', which an unquoted eval would glob.
	sed -n "s/^SPATE_TEST_PG_URL=\(.*\)$/export SPATE_TEST_PG_URL='\1'/p" "$env_file"
	;;
stop)
	stop_quietly
	;;
status)
	if running; then
		say "running ($(sed -n 's/^SPATE_TEST_PG_URL=//p' "$env_file"))"
	else
		say "not running"
		exit 1
	fi
	;;
*)
	echo "usage: $0 start|env|stop|status" >&2
	exit 2
	;;
esac
