#!/usr/bin/env bash
# Installs, if missing, what `make test` needs beyond Go: a C compiler (the
# race detector needs cgo), the AWS CLI (the CLI smoke test) and a PostgreSQL
# server with psql (scripts/pg-server.sh: the analytics oracle tests), boto3
# for Debian's own Python (the boto3 compatibility tests run
# /usr/bin/python3, whatever python3 is first on PATH), Node.js and npm, then
# Prometheus and promtool into .tools/prometheus (scripts/prometheus-tools.sh:
# the Prometheus and Grafana dashboard test) and the npm clients of
# integration/js into .tools/npm-clients (scripts/npm-clients.sh: the tests
# with JavaScript clients: aws-kinesis-agg and the AWS SDK for JavaScript v3,
# and playwright-core, which drives Debian's chromium through the web
# console's end-to-end tests), and the web console's own npm packages
# (scripts/console-build.sh, which make test runs with --check).
# Idempotent: does nothing when all are present. Uses Debian's packages, the only
# registry besides the Go proxy and npm that this project's machines reach.
set -euo pipefail

missing=()
command -v gcc >/dev/null 2>&1 || command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v aws >/dev/null 2>&1 || missing+=(awscli)
# Debian's postgresql depends on the supported server version
# (/usr/lib/postgresql/N/bin) and its client, psql.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
/usr/bin/python3 -c 'import boto3' >/dev/null 2>&1 || missing+=(python3-boto3)
# The web console's browser tests drive Debian's chromium with playwright-core.
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-liberation)
# ... and check it in Debian's Firefox over WebDriver BiDi (integration/browser/firefox.js).
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "test-deps: missing ${missing[*]} and no apt-get to install them; install them and re-run" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  echo "test-deps: installing ${missing[*]} from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  command -v aws >/dev/null 2>&1 || { echo "test-deps: aws still not on PATH after installing awscli" >&2; exit 1; }
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { echo "test-deps: no /usr/lib/postgresql/*/bin/initdb after installing postgresql" >&2; exit 1; }
  /usr/bin/python3 -c 'import boto3' >/dev/null 2>&1 || { echo "test-deps: /usr/bin/python3 cannot import boto3 after installing python3-boto3" >&2; exit 1; }
  command -v chromium >/dev/null 2>&1 || { echo "test-deps: chromium still not on PATH after installing it" >&2; exit 1; }
  command -v firefox-esr >/dev/null 2>&1 || { echo "test-deps: firefox-esr still not on PATH after installing it" >&2; exit 1; }
fi

"$(dirname "${BASH_SOURCE[0]}")/prometheus-tools.sh"
"$(dirname "${BASH_SOURCE[0]}")/npm-clients.sh"
