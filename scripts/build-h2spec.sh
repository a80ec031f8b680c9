#!/bin/sh
# Builds h2spec (github.com/summerwind/h2spec) from a source checkout with Debian's Go and
# Debian's packaged Go libraries, without the Go module proxy:
#
#   scripts/build-h2spec.sh <h2spec checkout or git dir> [output binary, default .tools/h2spec]
#
# test/h2spec.test.ts runs the binary against a real gateway when it finds it (H2SPEC, or
# .tools/h2spec, or h2spec on PATH), and says why it skips when it does not.
set -eu
src=${1:?usage: scripts/build-h2spec.sh <h2spec source dir> [output]}
out=${2:-.tools/h2spec}
if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/golang.org/x/net/http2 ]; then
  apt-get update -qq
  apt-get install -y -qq golang-go golang-golang-x-net-dev golang-github-spf13-cobra-dev golang-github-fatih-color-dev
fi
work=$(mktemp -d)
mkdir -p "$work/src/github.com/summerwind" "$(dirname "$out")"
if [ -d "$src/cmd/h2spec" ]; then
  cp -r "$src" "$work/src/github.com/summerwind/h2spec"
else
  git clone -q "$src" "$work/src/github.com/summerwind/h2spec"
fi
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
# GOPATH mode: the packaged libraries stand in for the versions go.mod pins (their APIs agree).
(cd "$work/src/github.com/summerwind/h2spec" &&
  GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOFLAGS= GOPROXY=off go build -o "$out" ./cmd/h2spec)
rm -rf "$work"
echo "built $out"
