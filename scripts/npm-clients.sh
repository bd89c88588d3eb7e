#!/usr/bin/env bash
# Installs the npm clients the integration tests drive Spate with into
# ./.tools/npm-clients/node_modules (never system-wide), exactly as pinned by
# integration/js/package.json and package-lock.json (npm ci). Add a client
# there (npm install --package-lock-only --ignore-scripts in integration/js)
# and this script installs it.
#
# Idempotent and cheap when nothing changed: the install is redone only when
# the lock file differs from the one installed (a copy is kept beside
# node_modules). A new install is built in a temporary folder and moved into
# place, so a failed or interrupted one leaves the previous one whole.
# Package install scripts are not run: the clients need none.
#
# The tests that use these clients fail, naming this script, when node or
# the clients are missing; scripts/test-deps.sh installs node and npm from
# Debian's packages and then runs this.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/integration/js"
dest="$root/.tools/npm-clients"

if [[ -f "$dest/package-lock.json" && -d "$dest/node_modules" ]] && cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
	echo "npm-clients.sh: npm clients already installed in .tools/npm-clients" >&2
	exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "npm-clients.sh: npm not found (scripts/test-deps.sh installs it)" >&2; exit 1; }

mkdir -p "$root/.tools"
tmp="$(mktemp -d "$root/.tools/npm-clients.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cp "$src/package.json" "$src/package-lock.json" "$tmp/"
echo "npm-clients.sh: installing the npm clients of integration/js/package-lock.json into .tools/npm-clients" >&2
(cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
old="$dest.old.$$"
if [[ -e "$dest" ]]; then
	mv "$dest" "$old"
fi
mv "$tmp" "$dest"
rm -rf "$old"
