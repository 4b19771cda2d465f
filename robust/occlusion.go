package robust

import (
	"context"
	"fmt"
	"image"
	"math"
)

// DefaultGridSteps is the number of grid intervals K when Occlusion.Steps
// or Between.Steps is 0: 14 steps of 16 pixels on the paper's 0..224
// axis.
const DefaultGridSteps = 14

// Occlusion configures EvalOcclusion. Its zero value evaluates centre
// and boundary occlusion with a black fill on a 15-point grid. It is a
// plain value.
type Occlusion struct {
	// Occluders lists the patterns; nil means Center and Boundary.
	Occluders []Occluder
	// Steps is the number of grid intervals K: hole k, for k = 0..K, is
	// Hole(W, H, k, K). 0 means DefaultGridSteps.
	Steps int
	// Fill is the colour written.
	Fill Fill
	// Mean is the FillMean colour, one pixel value in [0, 1] per channel,
	// typically the model's normalisation mean (ImageNet: 0.485, 0.456,
	// 0.406), which the model sees as 0. Nil means the dataset's
	// per-channel mean, computed in an extra pass. Ignored for FillBlack.
	Mean []float64
}

// Hole returns the centred hole of grid point k of steps: round(k/steps·w)
// by round(k/steps·h) pixels (math.Round), at ((w − hw)/2, (h − hh)/2) with
// integer halving, as cutmix.Between places its square. This scales the
// paper's s = 0..224 axis to the input: for a square image the hole is
// s×s with s = round(k/steps·size), and for k = steps it is the whole
// image. Hole panics if steps ≤ 0.
func Hole(w, h, k, steps int) image.Rectangle {
	if steps <= 0 {
		panic("robust: Hole with steps <= 0")
	}
	f := float64(k) / float64(steps)
	hw := int(math.Round(f * float64(w)))
	hh := int(math.Round(f * float64(h)))
	x0, y0 := (w-hw)/2, (h-hh)/2
	return image.Rect(x0, y0, x0+hw, y0+hh)
}

// occlude writes into dst (one C×H×W image) src with the hole filled
// (Center) or everything outside it filled (Boundary), fill[c] per
// channel.
func occlude(dst, src []float32, c, h, w int, hole image.Rectangle, o Occluder, fill []float32) {
	plane := h * w
	for ch := range c {
		d := dst[ch*plane : (ch+1)*plane]
		s := src[ch*plane : (ch+1)*plane]
		v := fill[ch]
		for y := range h {
			row, srow := d[y*w:(y+1)*w], s[y*w:(y+1)*w]
			inRows := y >= hole.Min.Y && y < hole.Max.Y
			for x := range w {
				in := inRows && x >= hole.Min.X && x < hole.Max.X
				if in == (o == Center) {
					row[x] = v
				} else {
					row[x] = srow[x]
				}
			}
		}
	}
}

// fillValue returns the per-channel fill of c.
func (o *Occlusion) fillValue(ctx context.Context, d Dataset, ch int) ([]float64, error) {
	switch o.Fill {
	case FillBlack:
		return make([]float64, ch), nil
	case FillMean:
	default:
		return nil, fmt.Errorf("occlusion fill %d: %w", int(o.Fill), ErrOption)
	}
	if o.Mean != nil {
		if len(o.Mean) != ch {
			return nil, fmt.Errorf("occlusion mean of %d values for %d channels: %w", len(o.Mean), ch, ErrOption)
		}
		for _, v := range o.Mean {
			if !(v >= 0 && v <= 1) {
				return nil, fmt.Errorf("occlusion mean %v: %w", o.Mean, ErrOption)
			}
		}
		return append([]float64(nil), o.Mean...), nil
	}
	_, h, w := d.Shape()
	plane := h * w
	buf := make([]float32, ch*plane)
	sum := make([]float64, ch)
	for i := range d.Len() {
		if err := d.Load(ctx, i, buf); err != nil {
			return nil, fmt.Errorf("occlusion mean: load image %d: %w", i, err)
		}
		for c := range ch {
			for _, v := range buf[c*plane : (c+1)*plane] {
				sum[c] += float64(v)
			}
		}
	}
	for c := range sum {
		sum[c] /= float64(d.Len() * plane)
	}
	return sum, nil
}

// EvalOcclusion measures the top-1 error of m on d under centre and
// boundary occlusion over the grid of c.Occlusion (paper Fig. 5a). Each
// grid point and occluder costs one forward pass per image; only Logits
// is used, so it runs on models without gradients. Errors wrap ErrEmpty,
// ErrNoLabels, ErrPixel, ErrClass, ErrShape or ErrOption.
func EvalOcclusion(ctx context.Context, m Model, d Dataset, c Config) (*OcclusionResult, error) {
	o := c.Occlusion
	occs := o.Occluders
	if occs == nil {
		occs = []Occluder{Center, Boundary}
	}
	for _, oc := range occs {
		if oc != Center && oc != Boundary {
			return nil, fmt.Errorf("occlusion occluder %d: %w", int(oc), ErrOption)
		}
	}
	steps := o.Steps
	switch {
	case steps < 0:
		return nil, fmt.Errorf("occlusion steps %d: %w", steps, ErrSteps)
	case steps == 0:
		steps = DefaultGridSteps
	}
	l, err := newLoader("occlusion", d, c.BatchSize)
	if err != nil {
		return nil, err
	}
	fill, err := o.fillValue(ctx, d, l.c)
	if err != nil {
		return nil, err
	}
	fill32 := make([]float32, len(fill))
	for i, v := range fill {
		fill32[i] = float32(v)
	}
	res := &OcclusionResult{
		Space:     Space,
		Fill:      o.Fill.String(),
		FillValue: fill,
		Steps:     steps,
		Grid:      "hole k = round(k/K*W) x round(k/K*H) centred at ((W-w)/2, (H-h)/2); size_224 = 224*k/K",
		Curves:    make([]OcclusionCurve, len(occs)),
	}
	for i, oc := range occs {
		cv := &res.Curves[i]
		cv.Occluder = oc.String()
		for k := 0; k <= steps; k++ {
			hole := Hole(l.w, l.h, k, steps)
			cv.Points = append(cv.Points, OcclusionPoint{
				K: k, Size224: 224 * float64(k) / float64(steps),
				HoleWidth: hole.Dx(), HoleHeight: hole.Dy(),
			})
		}
	}
	occBuf := make([]float32, len(l.buf))
	err = l.each(ctx, func(first int, b Batch, labels []int) error {
		x := b
		x.Data = occBuf[:len(b.Data)]
		for i, oc := range occs {
			for k := 0; k <= steps; k++ {
				hole := Hole(l.w, l.h, k, steps)
				for n := range b.N {
					occlude(x.image(n), b.image(n), b.C, b.H, b.W, hole, oc, fill32)
				}
				lg, kk, err := logits(ctx, m, x)
				if err != nil {
					return fmt.Errorf("occlusion %v k=%d images %d-%d: %w", oc, k, first, first+b.N-1, err)
				}
				if err := checkClasses("occlusion", labels, kk); err != nil {
					return err
				}
				p := &res.Curves[i].Points[k]
				for j, lab := range labels {
					if argmax(lg[j*kk:(j+1)*kk]) != lab {
						p.Errors++
					}
				}
			}
		}
		res.Images += b.N
		c.progress(StageOcclusion, first+b.N, l.n)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range res.Curves {
		for k := range res.Curves[i].Points {
			p := &res.Curves[i].Points[k]
			p.Error = rate(p.Errors, res.Images)
		}
	}
	return res, nil
}
