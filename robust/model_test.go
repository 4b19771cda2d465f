package robust_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cutmixcam/cutmix-cam/robust"
)

// linear is a real pure-Go classifier: a softmax regression on the
// normalised pixels,
//
//	z = W·((x − mean)/std) + b,
//
// with the closed-form cross-entropy gradient
//
//	∂CE(z, y)/∂x_i = Σ_k W[k,i]·(softmax(z)_k − [k = y]) / std_c(i).
//
// Arithmetic is float64, rounded to float32 at the end.
type linear struct {
	k, c, h, w int
	weight     []float64 // k × (c·h·w)
	bias       []float64
	mean, std  []float64 // per channel
	grads      int       // LossGradient calls
	forwards   int       // Logits calls
}

func (m *linear) dim() int { return m.c * m.h * m.w }

func (m *linear) check(b robust.Batch) error {
	if b.C != m.c || b.H != m.h || b.W != m.w || len(b.Data) != b.N*m.dim() {
		return fmt.Errorf("linear model %dx%dx%d got batch %dx%dx%dx%d", m.c, m.h, m.w, b.N, b.C, b.H, b.W)
	}
	return nil
}

// scores returns the float64 logits of one image.
func (m *linear) scores(x []float32) []float64 {
	d, plane := m.dim(), m.h*m.w
	z := make([]float64, m.k)
	for k := range m.k {
		s := m.bias[k]
		for i, v := range x {
			c := i / plane
			s += m.weight[k*d+i] * (float64(v) - m.mean[c]) / m.std[c]
		}
		z[k] = s
	}
	return z
}

func (m *linear) Logits(_ context.Context, b robust.Batch) ([]float32, int, error) {
	if err := m.check(b); err != nil {
		return nil, 0, err
	}
	m.forwards++
	out := make([]float32, 0, b.N*m.k)
	d := m.dim()
	for n := range b.N {
		for _, v := range m.scores(b.Data[n*d : (n+1)*d]) {
			out = append(out, float32(v))
		}
	}
	return out, m.k, nil
}

func softmax(z []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	p := make([]float64, len(z))
	var sum float64
	for i, v := range z {
		p[i] = math.Exp(v - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// grad64 returns ∂CE(f(x), y)/∂x in float64.
func (m *linear) grad64(x []float32, y int) []float64 {
	p := softmax(m.scores(x))
	p[y]--
	d, plane := m.dim(), m.h*m.w
	g := make([]float64, d)
	for i := range g {
		var s float64
		for k := range m.k {
			s += m.weight[k*d+i] * p[k]
		}
		g[i] = s / m.std[i/plane]
	}
	return g
}

func (m *linear) LossGradient(ctx context.Context, b robust.Batch, labels []int) ([]float32, int, []float32, error) {
	l, k, err := m.Logits(ctx, b)
	if err != nil {
		return nil, 0, nil, err
	}
	m.forwards--
	m.grads++
	for _, y := range labels {
		if y < 0 || y >= m.k {
			return nil, 0, nil, fmt.Errorf("linear model: label %d of %d classes", y, m.k)
		}
	}
	d := m.dim()
	g := make([]float32, 0, len(b.Data))
	for n := range b.N {
		for _, v := range m.grad64(b.Data[n*d:(n+1)*d], labels[n]) {
			g = append(g, float32(v))
		}
	}
	return l, k, g, nil
}

// randomLinear returns a linear model with weights from seed.
func randomLinear(k, c, h, w int, seed uint64) *linear {
	r := rand.New(rand.NewPCG(seed, 1))
	m := &linear{k: k, c: c, h: h, w: w, weight: make([]float64, k*c*h*w), bias: make([]float64, k),
		mean: make([]float64, c), std: make([]float64, c)}
	for i := range m.weight {
		m.weight[i] = r.NormFloat64()
	}
	for i := range m.bias {
		m.bias[i] = 0.1 * r.NormFloat64()
	}
	for i := range c {
		m.mean[i] = 0.4 + 0.05*float64(i)
		m.std[i] = 0.2 + 0.02*float64(i)
	}
	return m
}

// randomData returns n images with pixels uniform in [lo, hi) and labels
// taken from model m's clean prediction for every other image (so about
// half are clean-correct), from seed.
func randomData(m *linear, n int, lo, hi float64, seed uint64) *robust.Data {
	r := rand.New(rand.NewPCG(seed, 2))
	d := &robust.Data{Pixels: make([]float32, n*m.dim()), Labels: make([]int, n), C: m.c, H: m.h, W: m.w}
	for i := range d.Pixels {
		d.Pixels[i] = float32(lo + (hi-lo)*r.Float64())
	}
	for i := range n {
		z := m.scores(d.Pixels[i*m.dim() : (i+1)*m.dim()])
		best := 0
		for k := range z {
			if z[k] > z[best] {
				best = k
			}
		}
		d.Labels[i] = best
		if i%2 == 1 {
			d.Labels[i] = (best + 1 + r.IntN(m.k-1)) % m.k
		}
	}
	return d
}

// logitsOnly is a model without gradients: only Logits.
type logitsOnly struct{ m *linear }

func (l logitsOnly) Logits(ctx context.Context, b robust.Batch) ([]float32, int, error) {
	return l.m.Logits(ctx, b)
}

// noPath is a GradientModel whose graph has no differentiable path, as the
// ONNX adapter reports it.
type noPath struct{ logitsOnly }

func (noPath) LossGradient(context.Context, robust.Batch, []int) ([]float32, int, []float32, error) {
	return nil, 0, nil, fmt.Errorf("loss gradient: op ArgMax (node 7) has no backward rule: %w", robust.ErrNoGradients)
}

// prototype classifies by the mean pixel value: class k has prototype
// k/(K−1) and logit −scale·(mean − k/(K−1))². It is a real model with no
// gradient.
type prototype struct{ k int }

func (p prototype) Logits(_ context.Context, b robust.Batch) ([]float32, int, error) {
	s := b.C * b.H * b.W
	out := make([]float32, 0, b.N*p.k)
	for n := range b.N {
		var sum float64
		for _, v := range b.Data[n*s : (n+1)*s] {
			sum += float64(v)
		}
		mean := sum / float64(s)
		for k := range p.k {
			d := mean - float64(k)/float64(p.k-1)
			out = append(out, float32(-100*d*d))
		}
	}
	return out, p.k, nil
}
