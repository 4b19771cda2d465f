package cam

import (
	"context"
	"fmt"
)

// Rule is the quadrature of Integrated Gradients' path integral. The zero
// value is RiemannRight.
//
//go:generate go tool stringer -type=Rule -linecomment
type Rule int

const (
	// RiemannRight evaluates α = k/m for k = 1…m, each with weight 1/m:
	// the sum of Sundararajan et al.'s paper (their equation 3).
	RiemannRight Rule = iota // riemann-right
	// RiemannLeft evaluates α = (k−1)/m for k = 1…m.
	RiemannLeft // riemann-left
	// RiemannMiddle evaluates α = (k−½)/m for k = 1…m.
	RiemannMiddle // riemann-middle
	// Trapezoid evaluates α = k/m for k = 0…m (m+1 points), with weight
	// 1/(2m) at both ends and 1/m inside.
	Trapezoid // trapezoid
)

// points returns the α values and weights of the rule with m steps.
func (r Rule) points(m int) (alpha, weight []float64) {
	fm := float64(m)
	switch r {
	case Trapezoid:
		for k := 0; k <= m; k++ {
			w := 1 / fm
			if k == 0 || k == m {
				w /= 2
			}
			alpha, weight = append(alpha, float64(k)/fm), append(weight, w)
		}
		return alpha, weight
	case RiemannLeft:
		for k := range m {
			alpha, weight = append(alpha, float64(k)/fm), append(weight, 1/fm)
		}
	case RiemannMiddle:
		for k := range m {
			alpha, weight = append(alpha, (float64(k)+0.5)/fm), append(weight, 1/fm)
		}
	default:
		for k := 1; k <= m; k++ {
			alpha, weight = append(alpha, float64(k)/fm), append(weight, 1/fm)
		}
	}
	return alpha, weight
}

// IntegratedGradients is Integrated Gradients (Sundararajan et al. 2017):
//
//	IG[c,y,x] = (x − x′)[c,y,x] · Σ_j w_j · ∂s_k/∂x[c,y,x] at x′ + α_j (x − x′)
//	map[y,x]  = Σ_c IG[c,y,x]
//
// with baseline x′ and the quadrature (α_j, w_j) of Rule. The map keeps its
// sign and sums, over pixels, to approximately s_k(x) − s_k(x′)
// (completeness). It is at the input resolution and needs an
// InputGradientModel; path points go to InputGradients BatchSize at a time.
//
// The zero value uses 50 right-Riemann steps from an all-zero baseline
// (the data set mean after the usual normalisation). An
// IntegratedGradients is safe for concurrent use.
type IntegratedGradients struct {
	// Steps is the number of intervals m; 0 means 50.
	Steps int
	// Baseline is x′: nil means zeros; C×H×W values are used for every
	// image; N×C×H×W values give one baseline per image.
	Baseline []float32
	// Rule is the quadrature; the zero value is RiemannRight.
	Rule Rule
	// BatchSize is the number of path points per InputGradients call;
	// 0 means 16.
	BatchSize int
}

// Name returns "ig".
func (IntegratedGradients) Name() string { return "ig" }

func (ig IntegratedGradients) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	im, err := inputModel(m)
	if err != nil {
		return nil, err
	}
	steps := ig.Steps
	if steps <= 0 {
		steps = 50
	}
	bs := ig.BatchSize
	if bs <= 0 {
		bs = 16
	}
	in := b.C * b.H * b.W
	switch len(ig.Baseline) {
	case 0, in, b.N * in:
	default:
		return nil, fmt.Errorf("%w: baseline of %d values for %d images of %d", ErrShape, len(ig.Baseline), b.N, in)
	}
	fw, targets, err := scoresAndTargets(ctx, m, b, o)
	if err != nil {
		return nil, err
	}
	alpha, weight := ig.Rule.points(steps)
	calls := (len(alpha) + bs - 1) / bs
	total, done := b.N*len(targets[0])*calls+1, 1
	o.progress(done, total)
	pb := Batch{C: b.C, H: b.H, W: b.W, Data: make([]float32, min(bs, len(alpha))*in)}
	tg := make([]int, min(bs, len(alpha)))
	base := make([]float32, in)
	plane := b.H * b.W
	var rs []Result
	for n, cls := range targets {
		x := b.image(n)
		switch len(ig.Baseline) {
		case 0:
			clear(base)
		case in:
			copy(base, ig.Baseline)
		default:
			copy(base, ig.Baseline[n*in:(n+1)*in])
		}
		for _, k := range cls {
			acc := make([]float64, in)
			for a0 := 0; a0 < len(alpha); a0 += bs {
				cnt := min(bs, len(alpha)-a0)
				for i := range cnt {
					d := pb.Data[i*in : (i+1)*in]
					a := alpha[a0+i]
					for j, v := range x {
						d[j] = float32(float64(base[j]) + a*(float64(v)-float64(base[j])))
					}
					tg[i] = k
				}
				pb.N = cnt
				pb.Data = pb.Data[:cnt*in]
				_, g, err := inputGradients(ctx, im, pb, tg[:cnt], fw.K)
				pb.Data = pb.Data[:cap(pb.Data)]
				if err != nil {
					return nil, err
				}
				for i := range cnt {
					w := weight[a0+i]
					for j, v := range g[i*in : (i+1)*in] {
						acc[j] += w * float64(v)
					}
				}
				done++
				o.progress(done, total)
			}
			mp := NewMap(b.W, b.H)
			for j, v := range acc {
				mp.V[j%plane] += (float64(x[j]) - float64(base[j])) * v
			}
			rs = append(rs, Result{Image: n, Class: k, Score: fw.logits(n)[k], Map: mp})
		}
	}
	return rs, nil
}
