package cutmix_test

import (
	"fmt"
	"image"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cutmixcam/cutmix-cam/cutmix"
)

// BenchmarkApply mixes a 64×3×224×224 float32 batch into a second buffer.
// "copy" is copy(dst, src) of the same bytes. Each mixing sub-benchmark
// also times a copy before every iteration (outside its own timer) and
// reports "x-copy", its time over the copies' time (goal ≤ 1.5), which
// keeps the ratio meaningful on a loaded machine. "box-frac" is the mean
// fraction of pixels inside the boxes.
func BenchmarkApply(b *testing.B) {
	shape := cutmix.Shape{N: 64, C: 3, H: 224, W: 224}
	src := noiseBatch(shape.Len(), 1)
	dst := make([]float32, shape.Len())
	ref := make([]float32, shape.Len())
	copy(dst, src) // fault the pages in before timing
	copy(ref, src)
	b.Run("copy", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(4 * shape.Len()))
		for b.Loop() {
			copy(dst, src)
		}
	})
	fixed := func(lam float64) []cutmix.Draw {
		d := make([]cutmix.Draw, shape.N)
		for i := range d {
			d[i] = cutmix.Draw{Method: cutmix.CutMix, Applied: true, Partner: shape.N - 1 - i,
				Box: cutmix.Box(shape.W, shape.H, lam, 112, 112)}
		}
		return d
	}
	for _, tc := range []struct {
		name  string
		s     cutmix.Sampler
		draws []cutmix.Draw
	}{
		{"cutmix/sampled-batch", cutmix.Sampler{}, nil},
		{"cutmix/sampled-elem", cutmix.Sampler{Mode: cutmix.ModeElem}, nil},
		{"cutmix/lam0.75", cutmix.Sampler{}, fixed(0.75)},
		{"cutmix/lam0.5", cutmix.Sampler{}, fixed(0.5)},
		{"mixup/elem", cutmix.Sampler{Method: cutmix.Mixup, Mode: cutmix.ModeElem}, nil},
		{"cutout-noise/elem", cutmix.Sampler{Method: cutmix.Cutout, Fill: cutmix.FillNoise, Mode: cutmix.ModeElem}, nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			draws := tc.draws
			if draws == nil {
				s := tc.s
				s.Src = rand.NewPCG(1, 2)
				draws = make([]cutmix.Draw, shape.N)
				if err := s.Plan(draws, shape.W, shape.H); err != nil {
					b.Fatal(err)
				}
			}
			var frac float64
			for _, d := range draws {
				frac += float64(d.Box.Dx()*d.Box.Dy()) / float64(shape.W*shape.H) / float64(shape.N)
			}
			var copies time.Duration
			b.ReportAllocs()
			b.SetBytes(int64(4 * shape.Len()))
			for b.Loop() {
				b.StopTimer()
				t0 := time.Now()
				copy(ref, src)
				copies += time.Since(t0)
				b.StartTimer()
				if err := cutmix.Apply(dst, src, shape, draws); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(copies), "x-copy")
			b.ReportMetric(frac, "box-frac")
		})
	}
}

// BenchmarkPlan draws one decision per element of a 64-image batch.
func BenchmarkPlan(b *testing.B) {
	s := cutmix.Sampler{Mode: cutmix.ModeElem, Src: rand.NewPCG(1, 2)}
	draws := make([]cutmix.Draw, 64)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Plan(draws, 224, 224); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMix is the image-level path: sample and render one pair, same
// size (no resize), at 224 and 512 pixels.
func BenchmarkMix(b *testing.B) {
	for _, n := range []int{224, 512} {
		b.Run(fmt.Sprintf("%dpx", n), func(b *testing.B) {
			a, p := pattern(n, n, 0), pattern(n, n, 1)
			s := cutmix.Sampler{Src: rand.NewPCG(1, 2)}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.Mix(a, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("box/224px", func(b *testing.B) {
		a, p := pattern(224, 224, 0), pattern(224, 224, 1)
		box := image.Rect(50, 60, 150, 160)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cutmix.Mix(a, p, box); err != nil {
				b.Fatal(err)
			}
		}
	})
}
