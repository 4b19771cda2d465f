package onnx_test

import (
	"context"
	"fmt"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/cutmixcam/cutmix-cam/onnx"
)

// The floor for Run is ONNX Runtime's own session run through the Go
// binding with pre-allocated input and output tensors (BenchmarkORTFloor);
// BenchmarkRun adds what Model.Run does on top: tensor wrapping, output
// allocation and copying, context watching, chunking.

type benchModel struct {
	name  string
	path  func(testing.TB) string
	out   string
	batch []int
}

var benchModels = []benchModel{
	{"tiny_cam", func(testing.TB) string { return fixture("models", "tiny_cam.onnx") }, "logits", []int{1, 32}},
	{"mnist8", func(t testing.TB) string { return zoo(t, "mnist-8.onnx") }, "Plus214_Output_0", []int{1}},
}

func BenchmarkRun(b *testing.B) {
	for _, bm := range benchModels {
		for _, n := range bm.batch {
			b.Run(fmt.Sprintf("%s/n=%d", bm.name, n), func(b *testing.B) {
				m := openModel(b, bm.path(b), onnx.Options{Threads: 1})
				c, h, w := m.InputShape()
				x := randomInput(n*c*h*w, 1)
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := m.Run(ctx, x, n); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkRunWithActivation(b *testing.B) {
	m := openModel(b, fixture("models", "tiny_cam.onnx"), onnx.Options{Threads: 1})
	x := randomInput(32*3*16*16, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Run(ctx, x, 32, "features"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkORTFloor(b *testing.B) {
	for _, bm := range benchModels {
		for _, n := range bm.batch {
			b.Run(fmt.Sprintf("%s/n=%d", bm.name, n), func(b *testing.B) {
				needRuntime(b)
				path := bm.path(b)
				m := openModel(b, path, onnx.Options{})
				c, h, w := m.InputShape()
				inName := m.Info().Inputs[0].Name
				probe, err := m.Run(context.Background(), make([]float32, n*c*h*w), n)
				if err != nil {
					b.Fatal(err)
				}
				opts, err := ort.NewSessionOptions()
				if err != nil {
					b.Fatal(err)
				}
				defer opts.Destroy()
				if err := opts.SetIntraOpNumThreads(1); err != nil {
					b.Fatal(err)
				}
				s, err := ort.NewDynamicAdvancedSession(path, []string{inName}, []string{bm.out}, opts)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Destroy()
				in, err := ort.NewTensor(ort.NewShape(int64(n), int64(c), int64(h), int64(w)), randomInput(n*c*h*w, 1))
				if err != nil {
					b.Fatal(err)
				}
				defer in.Destroy()
				out, err := ort.NewEmptyTensor[float32](ort.NewShape(probe[0].Shape...))
				if err != nil {
					b.Fatal(err)
				}
				defer out.Destroy()
				b.ReportAllocs()
				for b.Loop() {
					if err := s.Run([]ort.Value{in}, []ort.Value{out}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
