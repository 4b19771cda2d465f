package robust_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cutmixcam/cutmix-cam/robust"
)

// benchInput returns a 10-class linear model and a batch of n images of
// 3×size×size with an arithmetic pixel pattern.
func benchInput(n, size int) (*linear, robust.Batch, []int) {
	m := randomLinear(10, 3, size, size, 1)
	x := robust.Batch{Data: make([]float32, n*3*size*size), N: n, C: 3, H: size, W: size}
	for i := range x.Data {
		x.Data[i] = float32(i%251) / 250
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 10
	}
	return m, x, labels
}

// BenchmarkFGSM measures FGSM images/s on a pure-Go softmax regression;
// BenchmarkForward the plain forward pass of the same model, for the
// ratio (about 1 forward pass for FGSM's gradient plus the sign step).
func BenchmarkFGSM(b *testing.B) {
	for _, size := range []int{32, 224} {
		b.Run(fmt.Sprintf("%dpx", size), func(b *testing.B) {
			m, x, labels := benchInput(4, size)
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if _, err := (robust.FGSM{}).Perturb(ctx, m, x, labels); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*x.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

func BenchmarkForward(b *testing.B) {
	for _, size := range []int{32, 224} {
		b.Run(fmt.Sprintf("%dpx", size), func(b *testing.B) {
			m, x, _ := benchInput(4, size)
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if _, _, err := m.Logits(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*x.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkPGD runs the default 10-step PGD.
func BenchmarkPGD(b *testing.B) {
	m, x, labels := benchInput(4, 32)
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		if _, err := (robust.PGD{}).Perturb(ctx, m, x, labels); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*x.N)/b.Elapsed().Seconds(), "images/s")
}
