package cutmix_test

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

// pattern returns a w×h image of one class colour with a lighter diagonal
// stripe and a dark disc in the middle, so mixes are easy to see.
func pattern(w, h int, class int) *image.NRGBA {
	palette := []color.NRGBA{
		{R: 200, G: 60, B: 40, A: 255},
		{R: 40, G: 160, B: 70, A: 255},
		{R: 50, G: 80, B: 200, A: 255},
		{R: 220, G: 190, B: 40, A: 255},
	}
	c := palette[class%len(palette)]
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			p := c
			if (x+y)/4%4 == 0 {
				p.R, p.G, p.B = p.R/2+120, p.G/2+120, p.B/2+120
			}
			dx, dy := 2*x-w, 2*y-h
			if dx*dx+dy*dy < w*h/4 {
				p.R, p.G, p.B = p.R/3, p.G/3, p.B/3
			}
			img.SetNRGBA(x, y, p)
		}
	}
	return img
}

// noiseBatch returns a deterministic batch of length s.Len().
func noiseBatch(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]float32, n)
	for i := range b {
		b[i] = r.Float32()
	}
	return b
}

// within checks a ⊆ b.
func within(t *testing.T, what string, a, b image.Rectangle) {
	t.Helper()
	if !a.Empty() && !a.In(b) {
		t.Errorf("%s = %v, not inside %v", what, a, b)
	}
}

func newPCG(seed uint64) *rand.PCG { return rand.NewPCG(seed, 0) }
