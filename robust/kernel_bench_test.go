package robust

import (
	"fmt"
	"image"
	"testing"
)

// BenchmarkKernels times the per-pixel kernels on one 3×n×n image.
func BenchmarkKernels(b *testing.B) {
	for _, n := range []int{224, 512} {
		size := 3 * n * n
		x, g, dst := make([]float32, size), make([]float32, size), make([]float32, size)
		for i := range x {
			x[i] = float32(i%251) / 250
			g[i] = float32(i%7) - 3
		}
		b.Run(fmt.Sprintf("sign/%dpx", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				signStep(dst, x, g, 8.0/255, false)
			}
		})
		b.Run(fmt.Sprintf("project/%dpx", n), func(b *testing.B) {
			copy(dst, x)
			b.ReportAllocs()
			for b.Loop() {
				projectStep(dst, x, g, 2.0/255, 8.0/255, false)
			}
		})
		b.Run(fmt.Sprintf("occlude/%dpx", n), func(b *testing.B) {
			hole := image.Rect(n/4, n/4, 3*n/4, 3*n/4)
			fill := []float32{0, 0, 0}
			b.ReportAllocs()
			for b.Loop() {
				occlude(dst, x, 3, n, n, hole, Center, fill)
			}
		})
	}
}
