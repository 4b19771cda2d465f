// Package onnxpb holds the Go types of the ONNX protobuf schema (ModelProto,
// GraphProto, NodeProto, TensorProto and the rest), generated with
// protoc-gen-go from the official onnx.proto that Debian's libonnx-dev package
// installs as /usr/include/onnx/onnx.proto (ONNX 1.12, IR version 8). Newer
// fields of later IR versions survive a decode and re-encode as unknown
// fields.
//
// Regenerate with `go generate ./onnx/onnxpb` after
// `apt-get install protobuf-compiler libonnx-dev` and
// `go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12`.
package onnxpb

//go:generate sh gen.sh
