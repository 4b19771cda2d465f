package onnx_test

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/cutmixcam/cutmix-cam/onnx"
	"github.com/cutmixcam/cutmix-cam/onnx/onnxpb"
)

// runtimeMissing is set by TestMain when no ONNX Runtime library was found
// outside CI; tests that need it skip.
var runtimeMissing error

func TestMain(m *testing.M) {
	lib, err := onnx.FindLibrary(onnx.LibraryConfig{})
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "onnx tests: %v (under CI a missing runtime is a failure)\n", err)
			os.Exit(1)
		}
		runtimeMissing = err
		// Examples cannot skip; leave them out rather than fail.
		flag.Parse()
		flag.Set("test.skip", "^Example")
		os.Exit(m.Run())
	}
	rt, err := onnx.Init(lib.Path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "onnx tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := rt.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "onnx tests:", err)
		code = 1
	}
	os.Exit(code)
}

// needRuntime skips t when the runtime library is absent (never under CI).
func needRuntime(t testing.TB) {
	t.Helper()
	if runtimeMissing != nil {
		t.Skipf("%v; provision it with: go run ./cmd/cutmix-cam setup", runtimeMissing)
	}
}

// fixture returns a path under the repository's testdata folder.
func fixture(parts ...string) string {
	return filepath.Join(append([]string{"..", "testdata"}, parts...)...)
}

// zoo returns a path in ../shared/onnx-zoo (beside the checkout), skipping t
// when it is absent, as a user's checkout has no ../shared.
func zoo(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "onnx-zoo", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("onnx zoo not present beside the checkout (%v)", err)
	}
	return p
}

func openModel(t testing.TB, path string, opts onnx.Options) *onnx.Model {
	t.Helper()
	needRuntime(t)
	m, err := onnx.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// readProto decodes a TensorProto file (the zoo's test vectors).
func readTensor(t testing.TB, path string) ([]int64, []float32) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tp onnxpb.TensorProto
	if err := proto.Unmarshal(b, &tp); err != nil {
		t.Fatal(err)
	}
	return tp.GetDims(), floats(&tp)
}

// floats reads a float TensorProto from float_data or raw_data.
func floats(tp *onnxpb.TensorProto) []float32 {
	if v := tp.GetFloatData(); len(v) > 0 {
		return v
	}
	raw := tp.GetRawData()
	v := make([]float32, len(raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v
}

// initializers returns a model's float initializers by name, read straight
// from the protobuf (independently of ONNX Runtime).
func initializers(t testing.TB, path string) map[string][]float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for _, in := range m.GetGraph().GetInitializer() {
		if onnxpb.TensorProto_DataType(in.GetDataType()) == onnxpb.TensorProto_FLOAT {
			out[in.GetName()] = floats(in)
		}
	}
	return out
}

func randomInput(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*r.Float32() - 1
	}
	return v
}

// maxAbsDiff returns max |a-b|, or +Inf when the lengths differ.
func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}
