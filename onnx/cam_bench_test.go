package onnx_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cutmixcam/cutmix-cam/cam"
	"github.com/cutmixcam/cutmix-cam/onnx"
	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
	"github.com/cutmixcam/cutmix-cam/robust"
)

// The closing benchmarks on a ResNet-50-sized model (the zoo's
// light ResNet-50: the real architecture with constant weights, so its
// gradients are meaningless but its costs are real). Each iteration times
// a plain forward pass (Model.Run, logits only) and then the operation on
// the same input, and reports their ratio (op/fwd) and the operation's
// images per second, so that the ratio is measured under the same machine
// load. One ORT thread, as in BenchmarkGradient.
//
//	go test ./onnx -run '^$' -bench 'CAMCost|FGSMCost' -count 5
//	go test ./onnx -run '^$' -bench 'ScoreCAMCost' -benchtime 1x -count 1

type costOp struct {
	name string
	run  func(ctx context.Context, m *onnx.Model, x []float32, n int) error
	slow bool // no warm-up call: it builds nothing and takes minutes
}

func camOp(meth cam.Method, force bool) func(context.Context, *onnx.Model, []float32, int) error {
	return func(ctx context.Context, m *onnx.Model, x []float32, n int) error {
		c, h, w := m.InputShape()
		_, err := cam.Compute(ctx, m, cam.Batch{Data: x, N: n, C: c, H: h, W: w}, meth, cam.Options{Target: cam.Class(1), ForceGradients: force})
		return err
	}
}

func fgsmOp(ctx context.Context, m *onnx.Model, x []float32, n int) error {
	c, h, w := m.InputShape()
	px := &onnx.Pixels{Model: m, Norm: preprocess.ImageNet}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 7
	}
	_, err := robust.FGSM{Epsilon: 4.0 / 255}.Perturb(ctx, px, robust.Batch{Data: x, N: n, C: c, H: h, W: w}, labels)
	return err
}

// benchCost runs op against a plain forward pass on light ResNet-50.
func benchCost(b *testing.B, ops []costOp, batches []int) {
	for _, n := range batches {
		for _, op := range ops {
			b.Run(fmt.Sprintf("resnet50/n=%d/%s", n, op.name), func(b *testing.B) {
				m := openModel(b, zoo(b, "light_resnet50.onnx"), onnx.Options{Threads: 1})
				ctx := context.Background()
				c, h, w := m.InputShape()
				x := randomInput(n*c*h*w, 1)
				for i := range x { // pixels in [0, 1] for FGSM
					x[i] = 0.5 + x[i]/2
				}
				if !op.slow { // build graphs, warm up
					if err := op.run(ctx, m, x, n); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := m.Run(ctx, x, n); err != nil {
					b.Fatal(err)
				}
				var fwd, cost time.Duration
				b.ReportAllocs()
				for b.Loop() {
					t0 := time.Now()
					if _, err := m.Run(ctx, x, n); err != nil {
						b.Fatal(err)
					}
					t1 := time.Now()
					if err := op.run(ctx, m, x, n); err != nil {
						b.Fatal(err)
					}
					fwd, cost = fwd+t1.Sub(t0), cost+time.Since(t1)
				}
				b.ReportMetric(float64(cost)/float64(fwd), op.name+"/fwd")
				b.ReportMetric(float64(n*b.N)/cost.Seconds(), "img/s")
				b.ReportMetric(float64(n*b.N)/fwd.Seconds(), "fwd-img/s")
			})
		}
	}
}

// BenchmarkCAMCost: CAM, Grad-CAM through the closed form and through the
// gradient graph, against a plain forward, at batch 1 and 8.
func BenchmarkCAMCost(b *testing.B) {
	benchCost(b, []costOp{
		{"cam", camOp(cam.CAM{}, false), false},
		{"gradcam-closed", camOp(cam.GradCAM{}, false), false},
		{"gradcam-graph", camOp(cam.GradCAM{}, true), false},
	}, []int{1, 8})
}

// BenchmarkFGSMCost: robust.FGSM through onnx.Pixels against a plain
// forward, at batch 1 and 8.
func BenchmarkFGSMCost(b *testing.B) {
	benchCost(b, []costOp{{"fgsm", fgsmOp, false}}, []int{1, 8})
}

// BenchmarkScoreCAMCost: Score-CAM's images per second (2048 masked
// forward passes per image, in batches of 16). Slow: run it with
// -benchtime 1x.
func BenchmarkScoreCAMCost(b *testing.B) {
	benchCost(b, []costOp{{"scorecam", camOp(cam.ScoreCAM{}, false), true}}, []int{1})
}
