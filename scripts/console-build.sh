#!/usr/bin/env bash
# Builds the web console: installs the npm packages pinned by
# console/web/package-lock.json into console/web/node_modules (npm ci, only
# when the lock file changed since the last install) and bundles
# console/web/src with esbuild into console/dist, which the spate binary
# embeds (package console). dist is committed, so `go build ./cmd/spate`
# needs no npm; rebuild and commit it whenever console/web changes.
#
#   scripts/console-build.sh          rebuild console/dist
#   scripts/console-build.sh --check  fail if console/dist is not what the
#                                     sources build to (make test runs this)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="$root/console/web"
mods="$web/node_modules"

command -v npm >/dev/null 2>&1 || { echo "console-build.sh: npm not found (scripts/test-deps.sh installs it)" >&2; exit 1; }
if ! { [[ -d "$mods" ]] && cmp -s "$web/package-lock.json" "$mods/.spate-package-lock.json"; }; then
	echo "console-build.sh: installing console/web's npm packages (npm ci)" >&2
	# No install scripts: esbuild finds its binary in its platform package.
	(cd "$web" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
	cp "$web/package-lock.json" "$mods/.spate-package-lock.json"
fi

if [[ "${1:-}" == "--check" ]]; then
	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	(cd "$web" && node build.mjs --outdir "$tmp")
	if ! diff -r "$tmp" "$root/console/dist" >/dev/null; then
		echo "console-build.sh: console/dist is not what console/web builds to; run scripts/console-build.sh (make console) and commit console/dist" >&2
		diff -rq "$tmp" "$root/console/dist" >&2 || true
		exit 1
	fi
	echo "console-build.sh: console/dist is up to date" >&2
	exit 0
fi
(cd "$web" && node build.mjs)
echo "console-build.sh: built console/dist" >&2
