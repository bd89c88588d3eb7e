#!/usr/bin/env bash
# Regenerates the Go code for proto/ with pinned tools.
#
# The tools are installed into ./.tools/bin (project-local, never on the
# system PATH) with `go install pkg@version`, which does not read or modify
# this module's go.mod. A tool is reinstalled only when it is missing or
# reports a different version, so running this twice is cheap.
#
# Needs only Go and the Go module proxy: the plugins run locally, and buf
# uses its built-in copies of the well-known types (google/protobuf/*.proto).
set -euo pipefail

BUF_VERSION=v1.75.0
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/bin"
mkdir -p "$bin"

# install NAME PACKAGE VERSION WANT: installs PACKAGE@VERSION unless
# `$bin/NAME --version` already prints WANT.
install() {
	local name=$1 pkg=$2 version=$3 want=$4
	if [[ -x "$bin/$name" ]] && [[ "$("$bin/$name" --version 2>&1)" == "$want" ]]; then
		return
	fi
	echo "proto.sh: installing $pkg@$version into .tools/bin" >&2
	# Outside the module and without a workspace, so go.mod stays untouched.
	(cd "$bin" && GOWORK=off GOBIN="$bin" go install "$pkg@$version")
}

install buf github.com/bufbuild/buf/cmd/buf "$BUF_VERSION" "${BUF_VERSION#v}"
install protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go \
	"$PROTOC_GEN_GO_VERSION" "protoc-gen-go $PROTOC_GEN_GO_VERSION"
install protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc \
	"$PROTOC_GEN_GO_GRPC_VERSION" "protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION#v}"

# buf.gen.yaml names the plugins as local binaries; ours come first.
export PATH="$bin:$PATH"
cd "$root/proto"
buf format --diff --exit-code
buf lint
buf generate
echo "proto.sh: generated Go in proto/spate/v1" >&2
