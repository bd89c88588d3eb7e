#!/usr/bin/env bash
# Runs a real S3 server (versitygw, pinned) on loopback for the tests.
#
#   scripts/s3-server.sh install  install versitygw into .tools/bin if missing
#   scripts/s3-server.sh start    install if needed, start it (no-op if running)
#   scripts/s3-server.sh env      print `export SPATE_TEST_S3_...=...` lines
#   scripts/s3-server.sh stop     stop it and delete its data (no-op if stopped)
#   scripts/s3-server.sh status   exit 0 if it is running and healthy
#
# Typical use:  scripts/s3-server.sh start && eval "$(scripts/s3-server.sh env)"
#
# The server listens on 127.0.0.1 on a free port, keeps its objects under
# .tools/s3-server/data, logs to .tools/s3-server/versitygw.log, and records
# how to reach it in .tools/s3-server.env (SPATE_TEST_S3_ENDPOINT,
# SPATE_TEST_S3_ACCESS_KEY, SPATE_TEST_S3_SECRET_KEY, SPATE_TEST_S3_REGION,
# SPATE_TEST_S3_PID). Tests read the SPATE_TEST_S3_* variables; without them
# the Go helper firehose/s3store/s3test starts its own server from the same
# binary. Tests use only the S3 API, never versitygw's files, so any
# S3-compatible server (MinIO included) can stand in: set the variables.
#
# versitygw is installed with `go install pkg@version` (needs only Go and the
# Go module proxy; does not touch go.mod). A stamp file beside the binary
# records the version, so a changed pin reinstalls.
set -euo pipefail

VERSITYGW_VERSION=v1.8.0
REGION=us-east-1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="$root/.tools/bin"
bin="$bin_dir/versitygw"
stamp="$bin.version"
state_dir="$root/.tools/s3-server"
data_dir="$state_dir/data"
log="$state_dir/versitygw.log"
env_file="$root/.tools/s3-server.env"

say() { echo "s3-server: $*" >&2; }

install() {
	if [[ -x "$bin" && "$(cat "$stamp" 2>/dev/null)" == "$VERSITYGW_VERSION" ]]; then
		return
	fi
	mkdir -p "$bin_dir"
	# Several test packages may ask at once: one installs, the others wait.
	exec 9>"$bin_dir/.versitygw.lock"
	flock 9
	if [[ -x "$bin" && "$(cat "$stamp" 2>/dev/null)" == "$VERSITYGW_VERSION" ]]; then
		exec 9>&-
		return
	fi
	say "installing github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION into .tools/bin (a few minutes the first time)"
	# Outside the module and without a workspace, so go.mod stays untouched.
	(cd "$bin_dir" && GOWORK=off GOBIN="$bin_dir" \
		go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION")
	echo "$VERSITYGW_VERSION" >"$stamp"
	exec 9>&-
}

# healthy PORT: exit 0 if GET /healthz on 127.0.0.1:PORT answers 200.
# Plain bash (/dev/tcp), so the script needs no curl.
healthy() {
	local port=$1
	(
		exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
		printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
		IFS= read -r -t 2 line <&3 || exit 1
		[[ "$line" =~ ^HTTP/[0-9.]+\ 200 ]]
	) 2>/dev/null
}

# running: exit 0 if the state file names a live, healthy server.
running() {
	[[ -f "$env_file" ]] || return 1
	local pid port
	pid="$(sed -n 's/^SPATE_TEST_S3_PID=//p' "$env_file")"
	port="$(sed -n 's/^SPATE_TEST_S3_ENDPOINT=http:\/\/127\.0\.0\.1://p' "$env_file")"
	[[ -n "$pid" && -n "$port" ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	healthy "$port"
}

# shellcheck source=lib-port.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-port.sh"

start() {
	if running; then
		say "already running ($(sed -n 's/^SPATE_TEST_S3_ENDPOINT=//p' "$env_file"))"
		return
	fi
	stop_quietly
	install
	mkdir -p "$data_dir"
	local access secret port pid
	access="spate-test"
	secret="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
	for _ in 1 2 3 4 5; do
		port="$(pick_port)"
		ROOT_ACCESS_KEY="$access" ROOT_SECRET_KEY="$secret" VGW_REGION="$REGION" \
			nohup "$bin" --port "127.0.0.1:$port" --health /healthz --quiet \
			posix "$data_dir" >"$log" 2>&1 </dev/null &
		pid=$!
		for _ in $(seq 300); do # up to 30 s
			if ! kill -0 "$pid" 2>/dev/null; then
				break
			fi
			if healthy "$port"; then
				umask 077
				cat >"$env_file" <<-EOF
					SPATE_TEST_S3_ENDPOINT=http://127.0.0.1:$port
					SPATE_TEST_S3_ACCESS_KEY=$access
					SPATE_TEST_S3_SECRET_KEY=$secret
					SPATE_TEST_S3_REGION=$REGION
					SPATE_TEST_S3_PID=$pid
				EOF
				say "versitygw $VERSITYGW_VERSION on http://127.0.0.1:$port (pid $pid)"
				return
			fi
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			say "versitygw did not become healthy in 30 s; log:"
			cat "$log" >&2
			exit 1
		fi
		if ! grep -qi "address already in use" "$log"; then
			say "versitygw exited; log:"
			cat "$log" >&2
			exit 1
		fi
	done
	say "could not bind a port after 5 tries"
	exit 1
}

# stop_quietly: stop the recorded server, if any, and delete its data.
stop_quietly() {
	if [[ -f "$env_file" ]]; then
		local pid
		pid="$(sed -n 's/^SPATE_TEST_S3_PID=//p' "$env_file")"
		# Only a versitygw: the pid may have been reused since.
		if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null &&
			[[ "$(cat "/proc/$pid/comm" 2>/dev/null || echo versitygw)" == versitygw* ]]; then
			kill "$pid" 2>/dev/null || true
			for _ in $(seq 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -9 "$pid" 2>/dev/null || true
		fi
		rm -f "$env_file"
	fi
	rm -rf "$state_dir"
}

case "${1:-}" in
install)
	install
	;;
start)
	start
	;;
env)
	if ! running; then
		say "not running; run: scripts/s3-server.sh start"
		exit 1
	fi
	sed -n 's/^\(SPATE_TEST_S3_\(ENDPOINT\|ACCESS_KEY\|SECRET_KEY\|REGION\)=.*\)$/export \1/p' "$env_file"
	;;
stop)
	stop_quietly
	;;
status)
	if running; then
		say "running ($(sed -n 's/^SPATE_TEST_S3_ENDPOINT=//p' "$env_file"))"
	else
		say "not running"
		exit 1
	fi
	;;
*)
	echo "usage: $0 install|start|env|stop|status" >&2
	exit 2
	;;
esac
