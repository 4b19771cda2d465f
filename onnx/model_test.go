package onnx_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cutmixcam/cutmix-cam/onnx"
)

type refModel struct {
	file  string
	layer string
	ref   func(map[string][]float32, []float32, int) (act, []float32)
}

var refModels = []refModel{
	{"tiny_cam.onnx", "features", refTinyCAM},
	{"tiny_gray_static.onnx", "act", refTinyGray},
	{"tiny_avgpool.onnx", "r", refTinyAvgPool},
}

// TestRunMatchesReference checks ONNX Runtime's outputs and an exposed
// intermediate tensor against the plain-Go forward pass, for dynamic and
// fixed batch sizes (the fixed-batch model runs in chunks).
func TestRunMatchesReference(t *testing.T) {
	for _, tc := range refModels {
		t.Run(tc.file, func(t *testing.T) {
			path := fixture("models", tc.file)
			m := openModel(t, path, onnx.Options{Threads: 1})
			w := initializers(t, path)
			c, h, wd := m.InputShape()
			for _, n := range []int{1, 3} {
				x := randomInput(n*c*h*wd, uint64(n))
				out, err := m.Run(context.Background(), x, n, tc.layer)
				if err != nil {
					t.Fatal(err)
				}
				wantAct, wantOut := tc.ref(w, x, n)
				if len(out) != 2 {
					t.Fatalf("Run returned %d tensors, want 2", len(out))
				}
				if d := maxAbsDiff(out[0].Data, wantOut); d > 1e-5 {
					t.Errorf("n=%d: output differs from reference by %g", n, d)
				}
				if out[1].Name != tc.layer || out[1].Shape[0] != int64(n) {
					t.Errorf("n=%d: extra output %s shape %v", n, out[1].Name, out[1].Shape)
				}
				if d := maxAbsDiff(out[1].Data, wantAct.v); d > 1e-5 {
					t.Errorf("n=%d: %s differs from reference by %g", n, tc.layer, d)
				}
				// The plain session is reused and agrees with the surgery one.
				plain, err := m.Run(context.Background(), x, n)
				if err != nil {
					t.Fatal(err)
				}
				if d := maxAbsDiff(plain[0].Data, out[0].Data); d != 0 {
					t.Errorf("n=%d: outputs with and without the extra tensor differ by %g", n, d)
				}
			}
		})
	}
}

// TestZooMNIST runs the ONNX model zoo's MNIST model on its own test vectors.
func TestZooMNIST(t *testing.T) {
	path := zoo(t, "mnist-8.onnx")
	m := openModel(t, path, onnx.Options{})
	for i := 0; i < 3; i++ {
		_, in := readTensor(t, zoo(t, fmt.Sprintf("mnist-8_test_data_set_%d_input_0.pb", i)))
		_, want := readTensor(t, zoo(t, fmt.Sprintf("mnist-8_test_data_set_%d_output_0.pb", i)))
		out, err := m.Run(context.Background(), in, 1)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(out[0].Data, want); d > 1e-3 {
			t.Errorf("set %d: logits differ from the zoo's by %g", i, d)
		}
	}
}

// TestTargetLayerAndHead checks detection on our fixtures and on real
// third-party graphs, and that the head reproduces the model's scores:
// Weight·mean(activation) + Bias must equal the model's output.
func TestTargetLayerAndHead(t *testing.T) {
	tests := []struct {
		path          func(testing.TB) string
		layer, pool   string
		c, h, w       int
		op            string
		classes       int
		checkScores   bool
		scoresAreProb bool
	}{
		{func(testing.TB) string { return fixture("models", "tiny_cam.onnx") }, "features", "GlobalAveragePool", 6, 8, 8, "Gemm", 5, true, false},
		{func(testing.TB) string { return fixture("models", "tiny_gray_static.onnx") }, "act", "ReduceMean", 3, 8, 8, "MatMul+Add", 4, true, true},
		{func(testing.TB) string { return fixture("models", "tiny_avgpool.onnx") }, "r", "AveragePool", 4, 10, 10, "Gemm", 3, true, false},
		{func(t testing.TB) string { return zoo(t, "light_resnet50.onnx") }, "", "AveragePool", 2048, 7, 7, "Gemm", 1000, false, false},
		{func(t testing.TB) string { return zoo(t, "light_squeezenet.onnx") }, "", "GlobalAveragePool", 1000, 13, 13, "identity", 1000, false, false},
		{func(t testing.TB) string { return zoo(t, "light_inception_v1.onnx") }, "", "AveragePool", 1024, 6, 6, "Gemm", 1000, false, false},
		{func(t testing.TB) string { return zoo(t, "st-mobilenet_v2_0.5_128-person.onnx") }, "StatefulPartitionedCall/mobilenet_v2_128_0.5/LAYER_148/Relu6:0", "AveragePool", 16, 4, 4, "MatMul+Add", 2, true, true},
	}
	for _, tc := range tests {
		path := tc.path(t)
		t.Run(filepath.Base(path), func(t *testing.T) {
			m := openModel(t, path, onnx.Options{})
			ctx := context.Background()
			l, err := m.TargetLayer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if (tc.layer != "" && l.Tensor != tc.layer) || l.Pool != tc.pool || l.Channels != tc.c || l.Height != tc.h || l.Width != tc.w {
				t.Errorf("TargetLayer = %+v, want %s via %s %d×%d×%d", l, tc.layer, tc.pool, tc.c, tc.h, tc.w)
			}
			hd, err := m.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if hd.Op != tc.op || hd.Classes != tc.classes || hd.Channels != tc.c || len(hd.Weight) != tc.classes*tc.c {
				t.Errorf("Head = %s %d×%d (%d weights), want %s %d×%d", hd.Op, hd.Classes, hd.Channels, len(hd.Weight), tc.op, tc.classes, tc.c)
			}
			if !tc.checkScores {
				return
			}
			c, h, w := m.InputShape()
			x := randomInput(2*c*h*w, 99)
			for i := range x {
				x[i] = float32(math.Abs(float64(x[i])))
			}
			out, err := m.Run(ctx, x, 2, l.Tensor, hd.Output)
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string][]float32{}
			for _, o := range out {
				byName[o.Name] = o.Data
			}
			a := act{2, l.Channels, l.Height, l.Width, byName[l.Tensor]}
			want := linear(meanPool(a), 2, l.Channels, hd.Weight, hd.Classes, false, hd.Bias, 1, 1)
			if d := maxAbsDiff(byName[hd.Output], want); d > 1e-4 {
				t.Errorf("head scores differ from the model's %s by %g", hd.Output, d)
			}
			if got := m.IsProbability(m.Info().Outputs[0].Name); got != tc.scoresAreProb {
				t.Errorf("IsProbability(%s) = %v, want %v", m.Info().Outputs[0].Name, got, tc.scoresAreProb)
			}
		})
	}
}

func TestHeadWeightsFromProto(t *testing.T) {
	// tiny_cam: Gemm transB=1, the weight is fc.w as stored.
	path := fixture("models", "tiny_cam.onnx")
	m := openModel(t, path, onnx.Options{})
	hd, err := m.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w := initializers(t, path)
	if d := maxAbsDiff(hd.Weight, w["fc.w"]); d != 0 {
		t.Errorf("tiny_cam head weight differs from fc.w by %g", d)
	}
	if d := maxAbsDiff(hd.Bias, w["fc.b"]); d != 0 {
		t.Errorf("tiny_cam head bias differs from fc.b by %g", d)
	}
	// tiny_avgpool: Gemm transB=0 with alpha 0.5: W[k][c] = 0.5·g.w[c][k].
	path = fixture("models", "tiny_avgpool.onnx")
	m = openModel(t, path, onnx.Options{})
	hd, err = m.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	gw := initializers(t, path)["g.w"]
	for k := 0; k < 3; k++ {
		for c := 0; c < 4; c++ {
			if got, want := hd.Weight[k*4+c], 0.5*gw[c*3+k]; got != want {
				t.Errorf("Weight[%d][%d] = %g, want %g", k, c, got, want)
			}
		}
	}
}

// TestNoLayer checks that a model without global pooling gets ErrNoLayer
// naming its last 4-D activation, and that the name works as a layer.
func TestNoLayer(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"mnist-8.onnx", `"Pooling160_Output_0" (16×4×4)`},
		{"winml-cifar10-tutorial.onnx", ""},
	} {
		m := openModel(t, zoo(t, tc.name), onnx.Options{})
		ctx := context.Background()
		_, err := m.TargetLayer(ctx)
		if !errors.Is(err, onnx.ErrNoLayer) {
			t.Fatalf("%s: TargetLayer error = %v, want ErrNoLayer", tc.name, err)
		}
		t.Logf("%s: %v", tc.name, err)
		if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not name %s", tc.name, err, tc.want)
		}
		if i := strings.Index(err.Error(), `is "`); i >= 0 {
			name := err.Error()[i+4:]
			name = name[:strings.Index(name, `"`)]
			if _, err := m.Layer(ctx, name); err != nil {
				t.Errorf("%s: the suggested layer %q: %v", tc.name, name, err)
			}
		}
	}
}

func TestLayerByName(t *testing.T) {
	m := openModel(t, fixture("models", "tiny_cam.onnx"), onnx.Options{})
	ctx := context.Background()
	l, err := m.Layer(ctx, "relu1")
	if err != nil {
		t.Fatal(err)
	}
	if l.Channels != 4 || l.Height != 16 || l.Width != 16 {
		t.Errorf("Layer(relu1) = %+v, want 4×16×16", l)
	}
	_, err = m.Layer(ctx, "no/such:0")
	if !errors.Is(err, onnx.ErrNoTensor) || !strings.Contains(err.Error(), "features") {
		t.Errorf("Layer(unknown) error = %v, want ErrNoTensor listing features", err)
	}
	if _, err := m.Layer(ctx, "logits"); err == nil || !strings.Contains(err.Error(), "4-D") {
		t.Errorf("Layer(logits) error = %v, want a 4-D complaint", err)
	}
	if _, err := m.Run(ctx, make([]float32, 3*16*16), 1, "nope"); !errors.Is(err, onnx.ErrNoTensor) {
		t.Errorf("Run with unknown extra tensor: error = %v, want ErrNoTensor", err)
	}
}

func TestInfo(t *testing.T) {
	m := openModel(t, fixture("models", "tiny_cam.onnx"), onnx.Options{})
	in := m.Info()
	if got := fmt.Sprint(in.Inputs); got != "[image float[N,3,16,16]]" {
		t.Errorf("Inputs = %s", got)
	}
	if got := fmt.Sprint(in.Outputs); got != "[logits float[N,5]]" {
		t.Errorf("Outputs = %s", got)
	}
	if in.Opset() != 13 || in.IRVersion != 7 || in.Producer != "cutmix-cam testdata/gen" {
		t.Errorf("opset %d IR %d producer %q", in.Opset(), in.IRVersion, in.Producer)
	}
	want := map[string]int{"Conv": 2, "Relu": 2, "GlobalAveragePool": 1, "Flatten": 1, "Gemm": 1}
	if fmt.Sprint(in.Ops) != fmt.Sprint(want) || in.Nodes != 7 || in.Initializers != 6 {
		t.Errorf("Ops = %v (%d nodes, %d initializers), want %v", in.Ops, in.Nodes, in.Initializers, want)
	}
	if c, h, w := m.InputShape(); c != 3 || h != 16 || w != 16 || m.BatchSize() != 0 {
		t.Errorf("InputShape = %d,%d,%d batch %d", c, h, w, m.BatchSize())
	}
	if !slices.Contains(m.Tensors(), "features") {
		t.Errorf("Tensors() lacks features: %v", m.Tensors())
	}
	if len(m.SHA256()) != 64 {
		t.Errorf("SHA256 = %q", m.SHA256())
	}
	// IR 3 quirk: initializers listed as inputs are not model inputs.
	r := openModel(t, zoo(t, "light_resnet50.onnx"), onnx.Options{})
	if len(r.Info().Inputs) != 1 || r.Info().Inputs[0].Name != "gpu_0/data_0" {
		t.Errorf("light_resnet50 inputs = %v", r.Info().Inputs)
	}
}

func TestOpenErrors(t *testing.T) {
	needRuntime(t)
	tests := []struct {
		file string
		opts onnx.Options
		want error
		text string
	}{
		{"missing.onnx", onnx.Options{}, nil, "no such file"},
		{"not_onnx.onnx", onnx.Options{}, onnx.ErrNotONNX, "image"},
		{"truncated.onnx", onnx.Options{}, onnx.ErrNotONNX, "truncated"},
		{"vector_input.onnx", onnx.Options{}, onnx.ErrNotImage, "float[N,10]"},
		{"tiny_cam.onnx", onnx.Options{Device: onnx.CUDA}, onnx.ErrNoCUDA, "--device cpu"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			m, err := onnx.Open(fixture("models", tc.file), tc.opts)
			if err == nil {
				m.Close()
				t.Fatalf("Open(%s) succeeded, want an error", tc.file)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Open(%s) = %v, want %v", tc.file, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("Open(%s) = %q, want it to mention %q", tc.file, err, tc.text)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Open(%s) error spans lines: %q", tc.file, err)
			}
		})
	}
}

func TestAutoFallsBackToCPU(t *testing.T) {
	m := openModel(t, fixture("models", "tiny_cam.onnx"), onnx.Options{Device: onnx.Auto})
	if m.Device() != onnx.CPU || !errors.Is(m.Fallback(), onnx.ErrNoCUDA) {
		t.Skipf("a CUDA provider loaded here (device %v); the fallback cannot be tested", m.Device())
	}
	if _, err := m.Run(context.Background(), make([]float32, 3*16*16), 1); err != nil {
		t.Fatal(err)
	}
}

func TestRunErrors(t *testing.T) {
	m := openModel(t, fixture("models", "tiny_cam.onnx"), onnx.Options{})
	if _, err := m.Run(context.Background(), make([]float32, 10), 1); err == nil {
		t.Error("Run with a short input succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Run(ctx, make([]float32, 3*16*16), 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestParseDevice(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want onnx.Device
		ok   bool
	}{{"cpu", onnx.CPU, true}, {"CUDA", onnx.CUDA, true}, {"auto", onnx.Auto, true}, {"tpu", onnx.CPU, false}} {
		got, err := onnx.ParseDevice(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseDevice(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && got.String() != strings.ToLower(tc.in) {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}

func TestInitTwice(t *testing.T) {
	needRuntime(t)
	lib, err := onnx.FindLibrary(onnx.LibraryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onnx.Init(lib.Path); !errors.Is(err, onnx.ErrInitialized) {
		t.Errorf("second Init = %v, want ErrInitialized", err)
	}
}
