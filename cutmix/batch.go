package cutmix

import (
	"fmt"
	"image"
	"math/rand/v2"
)

// Apply writes into dst the batch src mixed by draws, one Draw per image
// (from Sampler.Plan). All reads come from src, so every element mixes
// with its partner's original pixels, as in the official code, timm and
// torchvision. dst and src must both have length shape.Len() and must not
// overlap; src is unchanged. Boxes are clipped to the image.
//
// CutMix copies patches row by row. When the boxes are small (under about
// a third of the pixels) Apply first copies the whole batch in one call and
// then overwrites the box rows; otherwise it writes each row once as at
// most three segments (target, partner, target). Either way the result is
// the same. Mixup writes
// λ·x_target + (1−λ)·x_partner in float32. Cutout fills its box per Draw.Fill
// (FillMean: the target channel's mean over all its pixels; FillNoise:
// uniform [0, 1) with 24-bit resolution, the top bits of successive
// rand.NewPCG(Draw.Seed, 0) outputs).
//
// Apply allocates nothing. It returns a *ShapeError (ErrEmpty, ErrShape)
// for bad lengths or shapes, and ErrShape for a partner index out of range.
func Apply(dst, src []float32, shape Shape, draws []Draw) error {
	if err := checkBatch("apply", shape, len(dst), len(src), len(draws)); err != nil {
		return err
	}
	for i := range draws {
		if p := draws[i].Partner; p < 0 || p >= shape.N {
			return fmt.Errorf("apply draw %d partner %d: %w", i, p, ErrShape)
		}
	}
	apply(dst, src, src, shape, draws, true)
	return nil
}

// ApplyPair is Apply with the partners taken from a second batch: element
// i of target mixes with element i of partner, and Draw.Partner is ignored.
// Use it when targets and partners come from different loaders, or for one
// image pair with N = 1. partner must have the target's shape; a different
// channel count gives a *ShapeError wrapping ErrChannels. dst must not
// overlap target or partner. It allocates nothing.
func ApplyPair(dst, target, partner []float32, shape, partnerShape Shape, draws []Draw) error {
	if err := checkBatch("apply pair", shape, len(dst), len(target), len(draws)); err != nil {
		return err
	}
	if partnerShape.C != shape.C {
		return &ShapeError{Op: "apply pair", What: "partner", Got: partnerShape, Want: shape, Err: ErrChannels}
	}
	if partnerShape != shape || len(partner) != shape.Len() {
		return &ShapeError{Op: "apply pair", What: "partner", Got: partnerShape, Want: shape, Err: ErrShape}
	}
	apply(dst, target, partner, shape, draws, false)
	return nil
}

func apply(dst, tsrc, psrc []float32, shape Shape, draws []Draw, byIndex bool) {
	plane := shape.H * shape.W
	img := shape.C * plane
	bounds := image.Rect(0, 0, shape.W, shape.H)
	bulk := preferBulk(draws, bounds)
	if bulk {
		// One large copy: memmove streams it with non-temporal stores,
		// then only the boxes (and Mixup images) are rewritten.
		copy(dst, tsrc)
	}
	for i := range draws {
		d := &draws[i]
		p := i
		if byIndex {
			p = d.Partner
		}
		dimg := dst[i*img : (i+1)*img]
		timg := tsrc[i*img : (i+1)*img]
		pimg := psrc[p*img : (p+1)*img]
		box := d.Box.Intersect(bounds)
		if !d.Applied || (d.Method != Mixup && box.Empty()) || d.Method < CutMix || d.Method > Cutout {
			if !bulk {
				copy(dimg, timg)
			}
			continue
		}
		switch d.Method {
		case Mixup:
			blend(dimg, timg, pimg, float32(d.Lambda))
		case CutMix:
			for c := 0; c < shape.C; c++ {
				o := c * plane
				if bulk {
					overlay(dimg[o:o+plane], pimg[o:o+plane], shape.W, box)
				} else {
					paste(dimg[o:o+plane], timg[o:o+plane], pimg[o:o+plane], shape.W, box)
				}
			}
		case Cutout:
			if !bulk {
				copy(dimg, timg)
			}
			erase(dimg, shape.C, shape.W, shape.H, box, d.Fill, d.Seed)
		}
	}
}

// preferBulk reports whether copying the whole batch first and then
// rewriting the boxes moves fewer bytes than writing each image once in
// row segments. A segment write costs about 1.5 units per pixel (read,
// read-for-ownership, write back) against 1 for the bulk copy's streaming
// stores, and a rewritten box another 1.5 per pixel, so the bulk path wins
// when boxes cover less than about a third of the images. Mixup images
// are rewritten whole either way.
func preferBulk(draws []Draw, bounds image.Rectangle) bool {
	area := float64(bounds.Dx() * bounds.Dy())
	var keep float64 // Σ (1 − box fraction) over images that are not blended
	for i := range draws {
		d := &draws[i]
		switch {
		case d.Applied && d.Method == Mixup:
		case d.Applied && (d.Method == CutMix || d.Method == Cutout):
			b := d.Box.Intersect(bounds)
			keep += 1 - float64(b.Dx()*b.Dy())/area
		default:
			keep++
		}
	}
	return float64(len(draws)) < 1.5*keep
}

func checkBatch(op string, s Shape, ndst, nsrc, ndraws int) error {
	want := s
	if s.N <= 0 || s.C <= 0 || s.H <= 0 || s.W <= 0 {
		return &ShapeError{Op: op, What: "shape", Got: s, Want: want, Err: ErrEmpty}
	}
	if nsrc != s.Len() {
		return &ShapeError{Op: op, What: "src", Got: Shape{N: 1, C: 1, H: 1, W: nsrc}, Want: want, Err: ErrShape}
	}
	if ndst != s.Len() {
		return &ShapeError{Op: op, What: "dst", Got: Shape{N: 1, C: 1, H: 1, W: ndst}, Want: want, Err: ErrShape}
	}
	if ndraws != s.N {
		return &ShapeError{Op: op, What: "draws", Got: Shape{N: ndraws}, Want: Shape{N: s.N}, Err: ErrShape}
	}
	return nil
}

// paste writes one W-wide plane: target rows outside box, and inside box
// rows the target left of box, the partner within, the target right of it.
func paste(dst, t, p []float32, w int, box image.Rectangle) {
	top := box.Min.Y * w
	copy(dst[:top], t[:top])
	for y := box.Min.Y; y < box.Max.Y; y++ {
		o := y * w
		copy(dst[o:o+box.Min.X], t[o:o+box.Min.X])
		copy(dst[o+box.Min.X:o+box.Max.X], p[o+box.Min.X:o+box.Max.X])
		copy(dst[o+box.Max.X:o+w], t[o+box.Max.X:o+w])
	}
	bot := box.Max.Y * w
	copy(dst[bot:], t[bot:])
}

// overlay copies the box rows of p into dst.
func overlay(dst, p []float32, w int, box image.Rectangle) {
	for y := box.Min.Y; y < box.Max.Y; y++ {
		o := y * w
		copy(dst[o+box.Min.X:o+box.Max.X], p[o+box.Min.X:o+box.Max.X])
	}
}

func blend(dst, a, b []float32, lam float32) {
	b = b[:len(a)]
	dst = dst[:len(a)]
	mu := 1 - lam
	for k := range a {
		dst[k] = lam*a[k] + mu*b[k]
	}
}

// erase fills box in every channel of one CHW image.
func erase(img []float32, nc, w, h int, box image.Rectangle, fill Fill, seed uint64) {
	plane := w * h
	var pcg rand.PCG // a value, so the noise path does not allocate
	pcg.Seed(seed, 0)
	for c := 0; c < nc; c++ {
		p := img[c*plane : (c+1)*plane]
		var v float32
		if fill == FillMean {
			var sum float64
			for _, x := range p {
				sum += float64(x)
			}
			v = float32(sum / float64(plane))
		}
		for y := box.Min.Y; y < box.Max.Y; y++ {
			row := p[y*w+box.Min.X : y*w+box.Max.X]
			if fill == FillNoise {
				for k := range row {
					row[k] = float32(pcg.Uint64()>>40) / (1 << 24)
				}
				continue
			}
			for k := range row {
				row[k] = v
			}
		}
	}
}

// Labels writes the mixed soft labels of a batch into dst, row-major
// len(draws)×k: row i is Weight·onehot(classes[i]) +
// (1−Weight)·onehot(classes[Partner]) (Weight taken as 1 when the draw
// is not Applied), each one-hot smoothed to
// off = s/k, on = 1 − s + s/k first (timm mixup_target). Rows sum to 1.
// dst must have length len(classes)·k and classes one entry per draw.
// It returns ErrShape for bad lengths, ErrClass for a class outside
// [0, k) and ErrOption for smoothing outside [0, 1).
func Labels(dst []float32, classes []int, k int, draws []Draw, smoothing float64) error {
	n := len(draws)
	if k <= 0 || len(classes) != n || len(dst) != n*k {
		return fmt.Errorf("labels: %d classes, %d draws, %d values for %d classes: %w", len(classes), n, len(dst), k, ErrShape)
	}
	if !(smoothing >= 0 && smoothing < 1) {
		return fmt.Errorf("labels smoothing %v: %w", smoothing, ErrOption)
	}
	for i, c := range classes {
		if c < 0 || c >= k {
			return fmt.Errorf("labels class %d of element %d: %w", c, i, ErrClass)
		}
		if p := draws[i].Partner; p < 0 || p >= n {
			return fmt.Errorf("labels draw %d partner %d: %w", i, p, ErrShape)
		}
	}
	off := smoothing / float64(k)
	gain := 1 - smoothing
	for i := range draws {
		row := dst[i*k : (i+1)*k]
		for j := range row {
			row[j] = float32(off)
		}
		w := draws[i].Weight
		if !draws[i].Applied {
			w = 1
		}
		row[classes[i]] += float32(gain * w)
		row[classes[draws[i].Partner]] += float32(gain * (1 - w))
	}
	return nil
}
