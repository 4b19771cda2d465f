package cutmix_test

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cutmixcam/cutmix-cam/cutmix"
)

// FuzzSample checks, for any W, H ≥ 1, any α and any variant: no panic,
// α ≤ 0 (or NaN, +Inf) gives ErrAlpha, boxes stay inside the image, λ and
// the label weight lie in [0, 1], λ is the corrected area for CutMix and
// Cutout, and small batches mix and keep their bounds.
func FuzzSample(f *testing.F) {
	f.Add(uint16(224), uint16(224), 1.0, uint64(0), uint8(0))
	f.Add(uint16(1), uint16(1), 0.1, uint64(1), uint8(1))
	f.Add(uint16(32), uint16(7), 4.0, uint64(2), uint8(2))
	f.Add(uint16(3), uint16(300), 1e-300, uint64(3), uint8(0xff))
	f.Add(uint16(5), uint16(5), 1e300, uint64(4), uint8(0x10))
	f.Add(uint16(0), uint16(5), 1.0, uint64(5), uint8(0))
	f.Add(uint16(9), uint16(9), -1.0, uint64(6), uint8(0))
	f.Fuzz(func(t *testing.T, w, h uint16, alpha float64, seed uint64, variant uint8) {
		s := cutmix.Sampler{
			Src:             rand.NewPCG(seed, 0),
			Alpha:           alpha,
			MixupAlpha:      alpha,
			Method:          cutmix.Method(variant % 3),
			Center:          cutmix.Center(variant >> 2 & 1),
			RawLambda:       variant&0x08 != 0,
			Label:           cutmix.Label(variant >> 6 % 3),
			InclusiveOrigin: variant&0x20 != 0,
		}
		if variant&0x10 != 0 {
			s.MinMax = [2]float64{0.1, 0.9}
		}
		if variant&0x80 != 0 && s.MinMax[1] == 0 && w > 0 && h > 0 {
			s.Fixed = image.Pt(int(w+1)/2, int(h+1)/2)
		}
		d, err := s.Sample(int(w), int(h))
		switch {
		case w == 0 || h == 0:
			if !errors.Is(err, cutmix.ErrEmpty) && !errors.Is(err, cutmix.ErrAlpha) {
				t.Fatalf("Sample(%d, %d) error = %v, want ErrEmpty", w, h, err)
			}
			return
		case alpha < 0 || math.IsNaN(alpha) || math.IsInf(alpha, 1):
			if !errors.Is(err, cutmix.ErrAlpha) {
				t.Fatalf("Sample alpha %v error = %v, want ErrAlpha", alpha, err)
			}
			return
		case err != nil:
			t.Fatalf("Sample(%d, %d) with %+v: %v", w, h, s, err)
		}
		bounds := image.Rect(0, 0, int(w), int(h))
		if !d.Box.Empty() && !d.Box.In(bounds) {
			t.Fatalf("box %v outside %v", d.Box, bounds)
		}
		for name, v := range map[string]float64{"lambda": d.Lambda, "raw": d.Raw, "weight": d.Weight} {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("%s = %v, want in [0, 1]", name, v)
			}
		}
		if d.Method != cutmix.Mixup && !s.RawLambda {
			if want := 1 - float64(d.Box.Dx()*d.Box.Dy())/(float64(w)*float64(h)); d.Lambda != want {
				t.Fatalf("λ = %v, want corrected %v for box %v", d.Lambda, want, d.Box)
			}
		}
		if int(w)*int(h) > 1<<12 {
			return
		}
		shape := cutmix.Shape{N: 2, C: 2, H: int(h), W: int(w)}
		src := noiseBatch(shape.Len(), seed)
		dst := make([]float32, shape.Len())
		d.Partner = 1
		if err := cutmix.Apply(dst, src, shape, []cutmix.Draw{d, d}); err != nil {
			t.Fatalf("Apply: %v", err)
		}
		img := pattern(int(w), int(h), int(seed%4))
		out, err := cutmix.Render(img, pattern(int(h), int(w), 1), d, cutmix.FitStretch)
		if err != nil || out.Rect != bounds {
			t.Fatalf("Render = %v, %v, want bounds %v", out.Rect, err, bounds)
		}
	})
}

// FuzzApply checks Apply and Render never panic on arbitrary Draw values:
// boxes anywhere (they are clipped), any method, fill and λ; src is never
// modified and the image keeps the target's bounds.
func FuzzApply(f *testing.F) {
	f.Add(uint8(4), uint8(4), int16(1), int16(1), int16(3), int16(3), uint8(0), 0.5)
	f.Add(uint8(1), uint8(9), int16(-5), int16(-5), int16(50), int16(2), uint8(2), 1.0)
	f.Add(uint8(7), uint8(3), int16(6), int16(0), int16(-2), int16(3), uint8(9), -4.0)
	f.Fuzz(func(t *testing.T, w, h uint8, x0, y0, x1, y1 int16, kind uint8, lam float64) {
		if w == 0 || h == 0 {
			return
		}
		d := cutmix.Draw{
			Method:  cutmix.Method(kind % 3),
			Applied: kind&0x80 == 0,
			Partner: 1,
			Box:     image.Rect(int(x0), int(y0), int(x1), int(y1)),
			Lambda:  lam,
			Fill:    cutmix.Fill(kind >> 2 % 3),
			Seed:    uint64(kind),
		}
		shape := cutmix.Shape{N: 2, C: 3, H: int(h), W: int(w)}
		src := noiseBatch(shape.Len(), 1)
		before := append([]float32(nil), src...)
		dst := make([]float32, shape.Len())
		if err := cutmix.Apply(dst, src, shape, []cutmix.Draw{d, d}); err != nil {
			t.Fatalf("Apply: %v", err)
		}
		for i := range src {
			if src[i] != before[i] {
				t.Fatalf("Apply modified src at %d", i)
			}
		}
		out, err := cutmix.Render(pattern(int(w), int(h), 0), pattern(3, 5, 1), d, cutmix.FitFill)
		if err != nil || out.Rect != image.Rect(0, 0, int(w), int(h)) {
			t.Fatalf("Render = %v, %v", out, err)
		}
	})
}
