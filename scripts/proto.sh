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
PROTOC_GEN_GO_VTPROTO_VERSION=v0.6.1-0.20240319094008-0393e58bdf10
# (the vtprotobuf runtime version grpc already requires, so go.mod needs no
# other version of it)

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

# protoc-gen-go-vtproto has no --version flag: its marker file records the
# installed version instead.
vtproto_marker="$bin/protoc-gen-go-vtproto.version"
if [[ ! -x "$bin/protoc-gen-go-vtproto" ]] || [[ "$(cat "$vtproto_marker" 2>/dev/null)" != "$PROTOC_GEN_GO_VTPROTO_VERSION" ]]; then
	echo "proto.sh: installing protoc-gen-go-vtproto@$PROTOC_GEN_GO_VTPROTO_VERSION into .tools/bin" >&2
	(cd "$bin" && GOWORK=off GOBIN="$bin" go install "github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto@$PROTOC_GEN_GO_VTPROTO_VERSION")
	echo "$PROTOC_GEN_GO_VTPROTO_VERSION" >"$vtproto_marker"
fi

# buf.gen.yaml names the plugins as local binaries; ours come first.
export PATH="$bin:$PATH"
cd "$root/proto"
buf format --diff --exit-code
buf lint
buf generate
echo "proto.sh: generated Go in proto/spate/v1" >&2
