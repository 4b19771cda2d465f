package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/cutmixcam/cutmix-cam/onnx/onnxpb"
)

// TestShallowModelFields fails when onnx.proto gains a ModelProto or
// GraphProto field that shallowModel does not copy.
func TestShallowModelFields(t *testing.T) {
	for _, tc := range []struct {
		msg  proto.Message
		want []string
	}{
		{&onnxpb.ModelProto{}, []string{"ir_version", "opset_import", "producer_name", "producer_version", "domain",
			"model_version", "doc_string", "graph", "metadata_props", "training_info", "functions"}},
		{&onnxpb.GraphProto{}, []string{"node", "name", "initializer", "sparse_initializer", "doc_string",
			"input", "output", "value_info", "quantization_annotation"}},
	} {
		fs := tc.msg.ProtoReflect().Descriptor().Fields()
		var got []string
		for i := range fs.Len() {
			got = append(got, string(fs.Get(i).Name()))
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s fields %v; shallowModel copies %v", tc.msg.ProtoReflect().Descriptor().Name(), got, want)
		}
	}
}

// TestShallowModel checks that a shallow copy encodes exactly like a deep
// one (unknown fields included), and that changing the copy's graph
// outputs and opset imports leaves the source alone.
func TestShallowModel(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "models", "*.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := parseModel(b)
		if err != nil {
			continue // the deliberately broken fixtures
		}
		// An unknown field (as from a newer onnx.proto) on both messages.
		unknown := protoreflect.RawFields{0xc0, 0x3e, 0x07} // field 1000, varint 7
		m.ProtoReflect().SetUnknown(unknown)
		m.GetGraph().ProtoReflect().SetUnknown(unknown)
		opts := proto.MarshalOptions{Deterministic: true}
		want, err := opts.Marshal(proto.Clone(m))
		if err != nil {
			t.Fatal(err)
		}
		s := shallowModel(m)
		got, err := opts.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the shallow copy encodes differently from a deep copy", path)
		}
		before := len(m.GetGraph().GetOutput())
		s.GetGraph().Output = append(s.GetGraph().Output, &onnxpb.ValueInfoProto{Name: proto.String("extra")})
		s.GetOpsetImport()[0].Version = proto.Int64(99)
		if len(m.GetGraph().GetOutput()) != before || m.GetOpsetImport()[0].GetVersion() == 99 {
			t.Errorf("%s: changing the copy changed the source", path)
		}
	}
}
