package onnx_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cutmixcam/cutmix-cam/onnx"
)

type gradBench struct {
	name string
	path func(testing.TB) string
	n    int
}

var gradBenches = []gradBench{
	{"tiny_cam", func(testing.TB) string { return fixture("models", "tiny_cam.onnx") }, 32},
	{"tiny_resnet", func(testing.TB) string { return fixture("torchref", "tiny_resnet.onnx") }, 8},
	{"mobilenet_v2_person_128", func(t testing.TB) string { return zoo(t, "st-mobilenet_v2_0.5_128-person.onnx") }, 4},
	{"light_resnet50_224", func(t testing.TB) string { return zoo(t, "light_resnet50.onnx") }, 1},
	torchBench("resnet18"), torchBench("mobilenet_v2"), torchBench("efficientnet_b0"), torchBench("densenet121"),
}

// torchBench is a full torchvision model at 224 px from the folder
// CUTMIX_CAM_TORCH_REF names (testdata/torchref/export.py --full); the
// benchmark skips without it.
func torchBench(name string) gradBench {
	return gradBench{name + "_224", func(t testing.TB) string {
		dir := os.Getenv("CUTMIX_CAM_TORCH_REF")
		if dir == "" {
			t.Skip("CUTMIX_CAM_TORCH_REF is not set")
		}
		return filepath.Join(dir, name+".onnx")
	}, 1}
}

// BenchmarkGradient times one forward Run and one Gradient (input
// gradient of the top-1 logit plus the CAM layer's gradient) per
// iteration, and reports their ratio as grad/fwd.
func BenchmarkGradient(b *testing.B) {
	for _, bm := range gradBenches {
		b.Run(fmt.Sprintf("%s/n=%d", bm.name, bm.n), func(b *testing.B) {
			// One thread: two sessions' spinning thread pools would
			// otherwise steal each other's cores.
			m := openModel(b, bm.path(b), onnx.Options{Threads: 1})
			ctx := context.Background()
			c, h, w := m.InputShape()
			x := randomInput(bm.n*c*h*w, 1)
			l, err := m.TargetLayer(ctx)
			if err != nil {
				b.Fatal(err)
			}
			req := onnx.GradRequest{Wrt: []string{m.Info().Inputs[0].Name, l.Tensor}}
			if _, err := m.Gradient(ctx, x, bm.n, req); err != nil { // build and warm up
				b.Fatal(err)
			}
			if _, err := m.Run(ctx, x, bm.n); err != nil {
				b.Fatal(err)
			}
			var fwd, grad time.Duration
			minFwd, minGrad := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if _, err := m.Run(ctx, x, bm.n); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := m.Gradient(ctx, x, bm.n, req); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				fwd, grad = fwd+t1.Sub(t0), grad+t2.Sub(t1)
				minFwd, minGrad = min(minFwd, t1.Sub(t0)), min(minGrad, t2.Sub(t1))
			}
			b.ReportMetric(float64(grad)/float64(fwd), "grad/fwd")
			// The ratio of the fastest runs is steadier on a shared machine.
			b.ReportMetric(float64(minGrad)/float64(minFwd), "min-grad/min-fwd")
			b.ReportMetric(float64(fwd.Microseconds())/float64(b.N), "fwd-µs/op")
		})
	}
}

// BenchmarkGradientBuild times getting a gradient graph that is not in
// memory: "build" builds it (one probe run included, without the
// session); "disk" reads it from the on-disk cache (Options.GradCache).
func BenchmarkGradientBuild(b *testing.B) {
	for _, bm := range gradBenches {
		for _, src := range []string{"build", "disk"} {
			b.Run(bm.name+"/"+src, func(b *testing.B) {
				var opts onnx.Options
				if src == "disk" {
					opts.GradCache = b.TempDir()
				}
				m := openModel(b, bm.path(b), opts)
				ctx := context.Background()
				l, err := m.TargetLayer(ctx)
				if err != nil {
					b.Fatal(err)
				}
				req := onnx.GradRequest{Wrt: []string{m.Info().Inputs[0].Name, l.Tensor}}
				onnx.ResetGradCache() // so that the next call writes the disk cache
				data, err := m.GradientModel(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					onnx.ResetGradCache()
					if _, err := m.GradientModel(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(data))/1024, "graph-KiB")
			})
		}
	}
}
