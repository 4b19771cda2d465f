package cam

import (
	"context"
	"fmt"
)

// tinyNet is a small real classifier written in Go for the tests: 2×2
// average pooling of the input, a 1×1 convolution with ReLU (the layer
// "feat", cf×(H/2)×(W/2)), global average pooling and a linear head. With
// square set, the head sees A² instead of A, so the layer does not feed a
// GAP→linear head.
type tinyNet struct {
	cin, cf, k  int
	conv, convB []float64 // cf×cin, cf
	fc, fcB     []float64 // k×cf, k
	square      bool
	calls       int
}

func newTinyNet(cin, cf, k int) *tinyNet {
	t := &tinyNet{cin: cin, cf: cf, k: k}
	// Arithmetic pattern: deterministic, mixed signs, no zeros.
	for i := range cf * cin {
		t.conv = append(t.conv, float64((i*7)%11-4)/5)
	}
	for i := range cf {
		t.convB = append(t.convB, float64(i%3)/4+0.1)
	}
	for i := range k * cf {
		t.fc = append(t.fc, float64((i*5)%13-6)/7)
	}
	for i := range k {
		t.fcB = append(t.fcB, float64(i)/10-0.2)
	}
	return t
}

// feat returns the layer activations of one image (cin×h×w).
func (t *tinyNet) feat(x []float32, h, w int) []float64 {
	fh, fw := h/2, w/2
	a := make([]float64, t.cf*fh*fw)
	for c := range t.cf {
		for y := range fh {
			for xx := range fw {
				s := t.convB[c]
				for ci := range t.cin {
					p := x[ci*h*w:]
					m := (float64(p[2*y*w+2*xx]) + float64(p[2*y*w+2*xx+1]) +
						float64(p[(2*y+1)*w+2*xx]) + float64(p[(2*y+1)*w+2*xx+1])) / 4
					s += t.conv[c*t.cin+ci] * m
				}
				a[(c*fh+y)*fw+xx] = max(s, 0)
			}
		}
	}
	return a
}

// head returns the class scores from activations a (cf×hw).
func (t *tinyNet) head(a []float64, hw int) []float64 {
	out := make([]float64, t.k)
	for k := range t.k {
		s := t.fcB[k]
		for c := range t.cf {
			var m float64
			for _, v := range a[c*hw : (c+1)*hw] {
				if t.square {
					v *= v
				}
				m += v
			}
			s += t.fc[k*t.cf+c] * m / float64(hw)
		}
		out[k] = s
	}
	return out
}

func (t *tinyNet) Forward(_ context.Context, b Batch, layer string) (Activations, error) {
	t.calls++
	if layer != "" && layer != "feat" {
		return Activations{}, fmt.Errorf("tiny: no layer %q", layer)
	}
	fh, fw := b.H/2, b.W/2
	out := Activations{C: t.cf, H: fh, W: fw, K: t.k}
	for n := range b.N {
		a := t.feat(b.image(n), b.H, b.W)
		for _, v := range a {
			out.Acts = append(out.Acts, float32(v))
		}
		for _, v := range t.head(a, fh*fw) {
			out.Logits = append(out.Logits, float32(v))
		}
	}
	return out, nil
}

func (t *tinyNet) LinearHead(_ context.Context, layer string) (Head, error) {
	if t.square {
		return Head{}, fmt.Errorf("tiny: %w", ErrNoHead)
	}
	h := Head{Classes: t.k, Channels: t.cf}
	for _, v := range t.fc {
		h.Weight = append(h.Weight, float32(v))
	}
	for _, v := range t.fcB {
		h.Bias = append(h.Bias, float32(v))
	}
	return h, nil
}

// Gradients differentiates the head numerically: central finite
// differences of the class score with respect to each activation.
func (t *tinyNet) Gradients(ctx context.Context, b Batch, layer string, targets []int) (Activations, []float32, error) {
	fw, err := t.Forward(ctx, b, layer)
	if err != nil {
		return fw, nil, err
	}
	s := fw.C * fw.H * fw.W
	g := make([]float32, len(fw.Acts))
	for n := range b.N {
		if targets[n] < 0 || targets[n] >= t.k {
			return fw, nil, fmt.Errorf("tiny: %w", ErrClassRange)
		}
		a := make([]float64, s)
		for i, v := range fw.Acts[n*s : (n+1)*s] {
			a[i] = float64(v)
		}
		for i := range a {
			const h = 1e-4
			v := a[i]
			a[i] = v + h
			up := t.head(a, fw.H*fw.W)[targets[n]]
			a[i] = v - h
			dn := t.head(a, fw.H*fw.W)[targets[n]]
			a[i] = v
			g[n*s+i] = float32((up - dn) / (2 * h))
		}
	}
	return fw, g, nil
}

// pixelNet is a linear classifier on the input pixels: score k is
// Σ V[k]·x + bias[k]; its layer is the input itself (or, if acts is set,
// a constant activation tensor acts of shape ac×ah×aw for every image).
type pixelNet struct {
	c, h, w, k int
	v          []float32 // k×c×h×w
	acts       []float32
	ac, ah, aw int
	calls      int
}

func (p *pixelNet) Forward(_ context.Context, b Batch, _ string) (Activations, error) {
	p.calls++
	s := p.c * p.h * p.w
	out := Activations{K: p.k, C: p.c, H: p.h, W: p.w}
	if p.acts != nil {
		out.C, out.H, out.W = p.ac, p.ah, p.aw
	}
	for n := range b.N {
		x := b.image(n)
		if p.acts != nil {
			out.Acts = append(out.Acts, p.acts...)
		} else {
			out.Acts = append(out.Acts, x...)
		}
		for k := range p.k {
			var sum float64
			for i, v := range p.v[k*s : (k+1)*s] {
				sum += float64(v) * float64(x[i])
			}
			out.Logits = append(out.Logits, float32(sum))
		}
	}
	return out, nil
}

func (p *pixelNet) InputGradients(ctx context.Context, b Batch, targets []int) ([]float32, []float32, error) {
	fw, _ := p.Forward(ctx, b, "")
	s := p.c * p.h * p.w
	var g []float32
	for _, k := range targets {
		if k < 0 || k >= p.k {
			return nil, nil, fmt.Errorf("pixel: %w", ErrClassRange)
		}
		g = append(g, p.v[k*s:(k+1)*s]...)
	}
	return fw.Logits, g, nil
}

// pattern returns n deterministic values in [-1, 1).
func pattern(n int, seed int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(((i+seed)*37+seed*11)%64-32) / 32
	}
	return out
}
