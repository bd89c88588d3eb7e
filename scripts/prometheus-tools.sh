#!/usr/bin/env bash
# Installs Prometheus's two binaries into ./.tools/prometheus (never onto the
# system PATH) for integration/prometheus_test.go, which checks
# docs/prometheus.yml and docs/grafana/spate-dashboard.json against a real
# Prometheus scraping a real server:
#
#   .tools/prometheus/prometheus   the server (scrapes, answers PromQL)
#   .tools/prometheus/promtool     `check config`, `check metrics`
#
# They come from Debian's prometheus package (2.42 on bookworm), the only
# registry for it this project's machines reach. The package is downloaded
# and unpacked, not installed: installing it would start a system-wide
# prometheus service, create a user and pull in the web UI's JavaScript.
# Debian builds both binaries against libc only, so they run from anywhere.
#
# Idempotent: does nothing when both binaries are in .tools/prometheus.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.tools/prometheus"

if [[ -x "$dest/promtool" && -x "$dest/prometheus" ]]; then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
	echo "prometheus-tools.sh: no apt-get/dpkg-deb to fetch Debian's prometheus package; put prometheus and promtool (2.x) into $dest and re-run" >&2
	exit 1
fi
sudo=""
if [[ "$(id -u)" -ne 0 ]]; then
	sudo="sudo"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# apt-get download fetches as the _apt user when it can; mktemp's 0700
# would make it fall back to root with a warning.
chmod 755 "$tmp"

echo "prometheus-tools.sh: installing prometheus and promtool from Debian's prometheus package into .tools/prometheus" >&2
# A fresh machine may have no package lists yet: update once and retry.
if ! (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1); then
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	(cd "$tmp" && apt-get download -qq prometheus >/dev/null)
fi
deb=("$tmp"/prometheus_*.deb)
if [[ ! -f "${deb[0]}" ]]; then
	echo "prometheus-tools.sh: apt-get download left no prometheus_*.deb" >&2
	exit 1
fi
dpkg-deb -x "${deb[0]}" "$tmp/x"
mkdir -p "$dest"
# The package keeps both in /usr/bin. Each is renamed into place, so an
# interrupted run never leaves a truncated binary that looks installed.
for bin in prometheus promtool; do
	if [[ ! -x "$tmp/x/usr/bin/$bin" ]]; then
		echo "prometheus-tools.sh: ${deb[0]##*/} has no usr/bin/$bin" >&2
		exit 1
	fi
	install -m 0755 "$tmp/x/usr/bin/$bin" "$dest/$bin.new"
	mv -f "$dest/$bin.new" "$dest/$bin"
done
echo "prometheus-tools.sh: $("$dest/promtool" --version 2>&1 | head -n 1)" >&2
