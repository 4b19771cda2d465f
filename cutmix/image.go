package cutmix

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"github.com/disintegration/imaging"
)

// Mix returns a copy of target with box filled by the same region of
// partner: the CutMix operation on images. The result has bounds
// (0,0)-(W,H), W×H being target's size, and box is in those coordinates
// (relative to target.Bounds().Min); it is clipped to the image. A partner
// of another size is first resized to W×H (FitStretch, see Conform). Any
// colour model is converted to NRGBA. Neither input is modified and the
// result aliases neither. It returns ErrEmpty for an empty target or
// partner.
func Mix(target, partner image.Image, box image.Rectangle) (*image.NRGBA, error) {
	img, err := Render(target, partner, Draw{Method: CutMix, Applied: true, Box: box}, FitStretch)
	if err != nil {
		return nil, fmt.Errorf("mix: %w", err)
	}
	return img, nil
}

// Blend returns lam·target + (1−lam)·partner per NRGBA channel, rounded
// half to even (as timm's uint8 collate, np.rint): the Mixup operation on
// images. Sizes, bounds and aliasing are as for Mix. lam is clamped to
// [0, 1] (NaN counts as 1).
func Blend(target, partner image.Image, lam float64) (*image.NRGBA, error) {
	img, err := Render(target, partner, Draw{Method: Mixup, Applied: true, Lambda: lam}, FitStretch)
	if err != nil {
		return nil, fmt.Errorf("blend: %w", err)
	}
	return img, nil
}

func blendNRGBA(t, p *image.NRGBA, lam float64) {
	if math.IsNaN(lam) {
		lam = 1
	}
	lam = min(max(lam, 0), 1)
	for k, v := range t.Pix {
		t.Pix[k] = uint8(math.RoundToEven(lam*float64(v) + (1-lam)*float64(p.Pix[k])))
	}
}

// Erase returns a copy of target with box filled by fill, alpha kept: the
// Cutout operation on images. FillMean uses the mean R, G, B of the whole
// target, rounded; FillNoise uses uniform bytes, the low three bytes of successive
// rand.NewPCG(seed, 0) outputs, one output per pixel.
// Bounds and aliasing are as for Mix. It returns ErrEmpty for an empty
// target and ErrUnknown for an unknown fill.
func Erase(target image.Image, box image.Rectangle, fill Fill, seed uint64) (*image.NRGBA, error) {
	if target == nil || target.Bounds().Empty() {
		return nil, fmt.Errorf("erase target: %w", ErrEmpty)
	}
	if fill < 0 || fill > FillNoise {
		return nil, fmt.Errorf("erase fill %d: %w", int(fill), ErrUnknown)
	}
	t := imaging.Clone(target)
	eraseNRGBA(t, box.Intersect(t.Rect), fill, seed)
	return t, nil
}

func eraseNRGBA(t *image.NRGBA, box image.Rectangle, fill Fill, seed uint64) {
	var v [3]uint8
	if fill == FillMean {
		var sum [3]uint64
		for k := 0; k < len(t.Pix); k += 4 {
			sum[0] += uint64(t.Pix[k])
			sum[1] += uint64(t.Pix[k+1])
			sum[2] += uint64(t.Pix[k+2])
		}
		n := uint64(len(t.Pix) / 4)
		for c := range v {
			v[c] = uint8((sum[c] + n/2) / n)
		}
	}
	var pcg rand.PCG
	pcg.Seed(seed, 0)
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			o := t.PixOffset(x, y)
			if fill == FillNoise {
				u := pcg.Uint64()
				v = [3]uint8{uint8(u), uint8(u >> 8), uint8(u >> 16)}
			}
			copy(t.Pix[o:o+3], v[:])
		}
	}
}

// Conform returns img as a new NRGBA of exactly w×h pixels with bounds
// (0,0)-(w,h): a copy when the size already matches, otherwise resized by
// fit with imaging's Linear filter. It returns ErrEmpty for an empty image
// or size and ErrUnknown for an unknown fit.
func Conform(img image.Image, w, h int, fit Fit) (*image.NRGBA, error) {
	if img == nil || img.Bounds().Empty() || w <= 0 || h <= 0 {
		return nil, fmt.Errorf("conform to %dx%d: %w", w, h, ErrEmpty)
	}
	b := img.Bounds()
	switch {
	case b.Dx() == w && b.Dy() == h:
		return imaging.Clone(img), nil
	case fit == FitStretch:
		return imaging.Resize(img, w, h, imaging.Linear), nil
	case fit == FitFill:
		return imaging.Fill(img, w, h, imaging.Center, imaging.Linear), nil
	}
	return nil, fmt.Errorf("conform fit %d: %w", int(fit), ErrUnknown)
}

// pair converts target to a fresh NRGBA and conforms partner to it.
func pair(op string, target, partner image.Image, fit Fit) (t, p *image.NRGBA, err error) {
	if target == nil || target.Bounds().Empty() {
		return nil, nil, fmt.Errorf("%s target: %w", op, ErrEmpty)
	}
	if partner == nil || partner.Bounds().Empty() {
		return nil, nil, fmt.Errorf("%s partner: %w", op, ErrEmpty)
	}
	t = imaging.Clone(target)
	p, err = Conform(partner, t.Rect.Dx(), t.Rect.Dy(), fit)
	if err != nil {
		return nil, nil, fmt.Errorf("%s partner: %w", op, err)
	}
	return t, p, nil
}

// Render applies one Draw to an image pair: Mix for CutMix, Blend for
// Mixup, Erase for Cutout (partner unused, may be nil), a copy of target
// when the draw is not Applied. The partner is brought to target's size
// by fit. Bounds and aliasing are as for Mix.
func Render(target, partner image.Image, d Draw, fit Fit) (*image.NRGBA, error) {
	if !d.Applied || d.Method == Cutout {
		if target == nil || target.Bounds().Empty() {
			return nil, fmt.Errorf("render target: %w", ErrEmpty)
		}
		t := imaging.Clone(target)
		if d.Applied {
			eraseNRGBA(t, d.Box.Intersect(t.Rect), d.Fill, d.Seed)
		}
		return t, nil
	}
	t, p, err := pair("render", target, partner, fit)
	if err != nil {
		return nil, err
	}
	switch d.Method {
	case CutMix:
		box := d.Box.Intersect(t.Rect)
		for y := box.Min.Y; y < box.Max.Y; y++ {
			o, e := t.PixOffset(box.Min.X, y), t.PixOffset(box.Max.X, y)
			copy(t.Pix[o:e], p.Pix[o:e])
		}
	case Mixup:
		blendNRGBA(t, p, d.Lambda)
	default:
		return nil, fmt.Errorf("render method %d: %w", int(d.Method), ErrUnknown)
	}
	return t, nil
}

// Mix draws one decision for target's size and renders it with partner
// brought to target's size by s.Fit. It returns the image and the Draw
// (Partner 0). Errors are those of Sample and Render.
func (s *Sampler) Mix(target, partner image.Image) (*image.NRGBA, Draw, error) {
	if target == nil || target.Bounds().Empty() {
		return nil, Draw{}, fmt.Errorf("mix target: %w", ErrEmpty)
	}
	b := target.Bounds()
	d, err := s.Sample(b.Dx(), b.Dy())
	if err != nil {
		return nil, Draw{}, err
	}
	img, err := Render(target, partner, d, s.Fit)
	if err != nil {
		return nil, Draw{}, err
	}
	return img, d, nil
}
