#!/usr/bin/env bash
# Installs the peers `spate bench` compares Spate with into ./.tools (never
# onto the system PATH):
#
#   .tools/bin/nats-server           NATS server with JetStream (go install)
#   .tools/kinesalite/node_modules   kinesalite (npm), started by the bench
#                                    through a few lines of Node bound to
#                                    127.0.0.1 (its own CLI binds every
#                                    interface and has no host option)
#
# kfake (franz-go's in-process Kafka fake) needs no installation: it is a Go
# module the bench links.
#
# A peer that cannot be installed (no Go proxy, no npm) is reported and
# skipped; the bench then shows it as "not installed". Running this twice is
# cheap: a peer is reinstalled only when missing or at another version.
set -uo pipefail

NATS_VERSION=v2.15.2
KINESALITE_VERSION=3.3.3

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
bin="$tools/bin"
mkdir -p "$bin"
status=0

# nats-server prints "nats-server: v2.15.2" for --version.
if [[ -x "$bin/nats-server" ]] && [[ "$("$bin/nats-server" --version 2>&1)" == *"$NATS_VERSION"* ]]; then
	echo "bench-peers.sh: nats-server $NATS_VERSION already installed" >&2
else
	echo "bench-peers.sh: installing nats-server $NATS_VERSION into .tools/bin" >&2
	# Outside the module and without a workspace, so go.mod stays untouched.
	if ! (cd "$bin" && GOWORK=off GOBIN="$bin" go install "github.com/nats-io/nats-server/v2@$NATS_VERSION"); then
		echo "bench-peers.sh: nats-server not installed; the bench will skip it" >&2
		status=1
	fi
fi

pkg="$tools/kinesalite/node_modules/kinesalite/package.json"
if [[ -f "$pkg" ]] && grep -q "\"version\": \"$KINESALITE_VERSION\"" "$pkg"; then
	echo "bench-peers.sh: kinesalite $KINESALITE_VERSION already installed" >&2
elif ! command -v npm >/dev/null 2>&1; then
	echo "bench-peers.sh: npm not found; kinesalite not installed; the bench will skip it" >&2
	status=1
else
	echo "bench-peers.sh: installing kinesalite $KINESALITE_VERSION into .tools/kinesalite" >&2
	if ! npm install --silent --no-audit --no-fund --prefix "$tools/kinesalite" "kinesalite@$KINESALITE_VERSION" >&2; then
		echo "bench-peers.sh: kinesalite not installed; the bench will skip it" >&2
		status=1
	fi
fi

# A missing peer is not a failure of `make bench`: the table says so.
if [[ $status -ne 0 ]]; then
	echo "bench-peers.sh: some peers are missing (see above)" >&2
fi
exit 0
