package cutmix_test

import (
	"errors"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"github.com/cutmixcam/cutmix-cam/cutmix"
	"github.com/google/go-cmp/cmp"
)

func solid(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

func TestMix(t *testing.T) {
	red := color.NRGBA{R: 255, A: 255}
	blue := color.NRGBA{B: 255, A: 255}
	// A target with a non-zero origin: the result starts at (0, 0).
	target := solid(6, 4, red).SubImage(image.Rect(0, 0, 6, 4)).(*image.NRGBA)
	shifted := image.NewNRGBA(image.Rect(10, 20, 16, 24))
	copy(shifted.Pix, target.Pix)
	tests := []struct {
		name    string
		target  image.Image
		partner image.Image
		box     image.Rectangle
		blue    image.Rectangle
	}{
		{"inside", target, solid(6, 4, blue), image.Rect(1, 1, 3, 3), image.Rect(1, 1, 3, 3)},
		{"clipped", target, solid(6, 4, blue), image.Rect(4, -1, 9, 2), image.Rect(4, 0, 6, 2)},
		{"empty box", target, solid(6, 4, blue), image.Rectangle{}, image.Rectangle{}},
		{"shifted target", shifted, solid(6, 4, blue), image.Rect(0, 0, 2, 2), image.Rect(0, 0, 2, 2)},
		{"partner resized", target, solid(60, 10, blue), image.Rect(2, 1, 4, 4), image.Rect(2, 1, 4, 4)},
		{"gray partner", target, image.NewGray(image.Rect(0, 0, 6, 4)), image.Rect(0, 0, 1, 1), image.Rect(0, 0, 1, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cutmix.Mix(tc.target, tc.partner, tc.box)
			if err != nil {
				t.Fatal(err)
			}
			if want := image.Rect(0, 0, 6, 4); got.Rect != want {
				t.Fatalf("bounds %v, want %v", got.Rect, want)
			}
			for y := range 4 {
				for x := range 6 {
					want := red
					if image.Pt(x, y).In(tc.blue) {
						want = color.NRGBAModel.Convert(tc.partner.At(tc.partner.Bounds().Min.X, tc.partner.Bounds().Min.Y)).(color.NRGBA)
					}
					if g := got.NRGBAAt(x, y); g != want {
						t.Errorf("pixel (%d, %d) = %v, want %v", x, y, g, want)
					}
				}
			}
		})
	}
}

func TestBlendErase(t *testing.T) {
	a := solid(2, 2, color.NRGBA{R: 100, G: 3, B: 255, A: 255})
	b := solid(2, 2, color.NRGBA{R: 0, G: 0, B: 0, A: 255})
	got, err := cutmix.Blend(a, b, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// 0.5·3 = 1.5 rounds half to even: 2; 0.5·255 = 127.5: 128.
	if want := (color.NRGBA{R: 50, G: 2, B: 128, A: 255}); got.NRGBAAt(1, 1) != want {
		t.Errorf("Blend pixel = %v, want %v", got.NRGBAAt(1, 1), want)
	}
	img := solid(4, 1, color.NRGBA{R: 10, A: 200})
	img.SetNRGBA(3, 0, color.NRGBA{R: 31, G: 8, A: 200})
	tests := []struct {
		fill cutmix.Fill
		want color.NRGBA
	}{
		{cutmix.FillZero, color.NRGBA{A: 200}},
		{cutmix.FillMean, color.NRGBA{R: 15, G: 2, A: 200}}, // (10·3+31)/4 = 15.25, 8/4 = 2
	}
	for _, tc := range tests {
		t.Run(tc.fill.String(), func(t *testing.T) {
			got, err := cutmix.Erase(img, image.Rect(0, 0, 2, 1), tc.fill, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got.NRGBAAt(0, 0) != tc.want || got.NRGBAAt(2, 0) != img.NRGBAAt(2, 0) {
				t.Errorf("Erase %v: pixels %v %v, want %v and unchanged %v", tc.fill, got.NRGBAAt(0, 0), got.NRGBAAt(2, 0), tc.want, img.NRGBAAt(2, 0))
			}
		})
	}
	n1, _ := cutmix.Erase(img, image.Rect(0, 0, 4, 1), cutmix.FillNoise, 3)
	n2, _ := cutmix.Erase(img, image.Rect(0, 0, 4, 1), cutmix.FillNoise, 3)
	if !cmp.Equal(n1.Pix, n2.Pix) || cmp.Equal(n1.Pix, img.Pix) {
		t.Errorf("noise fill: not deterministic or no change: %v %v", n1.Pix, n2.Pix)
	}
}

func TestImageErrors(t *testing.T) {
	img := solid(4, 4, color.NRGBA{A: 255})
	empty := image.NewNRGBA(image.Rectangle{})
	s := cutmix.Sampler{Fixed: image.Pt(5, 5)}
	_, _, fixedErr := s.Mix(img, img)
	_, mixEmpty := cutmix.Mix(empty, img, image.Rect(0, 0, 1, 1))
	_, mixNil := cutmix.Mix(img, nil, image.Rect(0, 0, 1, 1))
	_, blendEmpty := cutmix.Blend(img, empty, 0.5)
	_, eraseEmpty := cutmix.Erase(empty, image.Rect(0, 0, 1, 1), cutmix.FillZero, 0)
	_, eraseFill := cutmix.Erase(img, image.Rect(0, 0, 1, 1), 7, 0)
	_, conformFit := cutmix.Conform(img, 2, 2, 9)
	_, conformSize := cutmix.Conform(img, 0, 2, cutmix.FitStretch)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"sampler fixed too large", fixedErr, cutmix.ErrBoxTooLarge},
		{"mix empty target", mixEmpty, cutmix.ErrEmpty},
		{"mix nil partner", mixNil, cutmix.ErrEmpty},
		{"blend empty partner", blendEmpty, cutmix.ErrEmpty},
		{"erase empty", eraseEmpty, cutmix.ErrEmpty},
		{"erase unknown fill", eraseFill, cutmix.ErrUnknown},
		{"conform unknown fit", conformFit, cutmix.ErrUnknown},
		{"conform zero size", conformSize, cutmix.ErrEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("error = %v, want %v", tc.err, tc.want)
			}
		})
	}
}

func TestConform(t *testing.T) {
	src := pattern(40, 20, 1)
	for _, fit := range []cutmix.Fit{cutmix.FitStretch, cutmix.FitFill} {
		got, err := cutmix.Conform(src, 16, 16, fit)
		if err != nil {
			t.Fatal(err)
		}
		if got.Rect != image.Rect(0, 0, 16, 16) {
			t.Errorf("Conform(%v) bounds %v, want 16x16", fit, got.Rect)
		}
	}
}

// TestSamplerMixMatchesApply checks the image path and the float batch
// path agree on the pixels of one CutMix draw.
func TestSamplerMixMatchesApply(t *testing.T) {
	a, b := pattern(24, 16, 0), pattern(24, 16, 2)
	s := cutmix.Sampler{Src: rand.NewPCG(3, 3)}
	got, d, err := s.Mix(a, b)
	if err != nil {
		t.Fatal(err)
	}
	shape := cutmix.Shape{N: 2, C: 4, H: 16, W: 24}
	src := make([]float32, shape.Len())
	for i, img := range []*image.NRGBA{a, b} {
		for c := range 4 {
			for y := range 16 {
				for x := range 24 {
					src[((i*4+c)*16+y)*24+x] = float32(img.Pix[img.PixOffset(x, y)+c])
				}
			}
		}
	}
	d.Partner = 1
	dst := make([]float32, shape.Len())
	if err := cutmix.Apply(dst, src, shape, []cutmix.Draw{d, {}}); err != nil {
		t.Fatal(err)
	}
	for c := range 4 {
		for y := range 16 {
			for x := range 24 {
				if g, w := got.Pix[got.PixOffset(x, y)+c], dst[(c*16+y)*24+x]; float32(g) != w {
					t.Fatalf("channel %d pixel (%d, %d): image %d, batch %v", c, x, y, g, w)
				}
			}
		}
	}
}
