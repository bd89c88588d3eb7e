#!/usr/bin/env bash
# Installs the AWS SDK for JavaScript v3 clients (@aws-sdk/client-kinesis,
# @aws-sdk/client-firehose) that integration/jsclients_test.go drives Spate
# with into ./.tools/npm-sdk-v3/node_modules (never system-wide), exactly as
# pinned by integration/js/sdk-v3/package.json and package-lock.json (npm ci).
#
# Idempotent and cheap when nothing changed: the install is redone only when
# the lock file differs from the one installed (a copy is kept beside
# node_modules). A new install is built in a temporary folder and moved into
# place, so a failed or interrupted one leaves the previous one whole.
# Package install scripts are not run: the SDK needs none.
#
# The tests fail, naming this script, when node or the clients are missing;
# scripts/test-deps.sh installs node and npm from Debian's packages and then
# runs this.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/integration/js/sdk-v3"
dest="$root/.tools/npm-sdk-v3"

if [[ -f "$dest/package-lock.json" && -d "$dest/node_modules" ]] && cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
	exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "npm-sdk-v3.sh: npm not found (scripts/test-deps.sh installs it)" >&2; exit 1; }

mkdir -p "$root/.tools"
tmp="$(mktemp -d "$root/.tools/npm-sdk-v3.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cp "$src/package.json" "$src/package-lock.json" "$tmp/"
echo "npm-sdk-v3.sh: installing integration/js/sdk-v3/package-lock.json into .tools/npm-sdk-v3" >&2
(cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
old="$dest.old.$$"
if [[ -e "$dest" ]]; then
	mv "$dest" "$old"
fi
mv "$tmp" "$dest"
rm -rf "$old"
