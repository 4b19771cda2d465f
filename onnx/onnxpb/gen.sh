#!/bin/sh
# Regenerates onnx.pb.go from the ONNX schema shipped by Debian's libonnx-dev.
set -eu
src=${ONNX_PROTO:-/usr/include/onnx/onnx.proto}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src" "$tmp/onnx.proto"
protoc --proto_path="$tmp" --go_out=. --go_opt=paths=source_relative \
	--go_opt=Monnx.proto=github.com/cutmixcam/cutmix-cam/onnx/onnxpb "$tmp/onnx.proto"
