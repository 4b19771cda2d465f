package cam

import (
	"context"
	"fmt"
	"math"
)

// Saliency is vanilla gradient saliency (Simonyan et al. 2014): the
// gradient of the class score with respect to the input, reduced over
// input channels by the largest magnitude,
//
//	map[y,x] = max_c |∂s_k/∂x[c,y,x]|
//
// (captum's Saliency with abs=True, followed by the paper's channel max).
// The map is at the input resolution. It needs an InputGradientModel.
type Saliency struct{}

// Name returns "saliency".
func (Saliency) Name() string { return "saliency" }

func (Saliency) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	im, err := inputModel(m)
	if err != nil {
		return nil, err
	}
	targets, k, err := resolveTargets(ctx, m, b, o)
	if err != nil {
		return nil, err
	}
	rounds := len(targets[0])
	rs := make([]Result, b.N*rounds)
	tg := make([]int, b.N)
	for r := range rounds {
		for n := range tg {
			tg[n] = targets[n][r]
		}
		logits, g, err := inputGradients(ctx, im, b, tg, k)
		if err != nil {
			return nil, err
		}
		kk := len(logits) / b.N
		for n, cls := range tg {
			mp := NewMap(b.W, b.H)
			absMax(mp.V, g[n*b.C*b.H*b.W:(n+1)*b.C*b.H*b.W], b.C)
			rs[n*rounds+r] = Result{Image: n, Class: cls, Score: logits[n*kk+cls], Map: mp}
		}
		o.progress(r+1, rounds)
	}
	return rs, nil
}

// inputModel returns m as an InputGradientModel or an error wrapping
// ErrNoGradients.
func inputModel(m Model) (InputGradientModel, error) {
	im, ok := m.(InputGradientModel)
	if !ok {
		return nil, fmt.Errorf("%w: the model cannot differentiate its input", ErrNoGradients)
	}
	return im, nil
}

// inputGradients calls the model and validates the result; k < 0 means
// the class range is still unchecked.
func inputGradients(ctx context.Context, im InputGradientModel, b Batch, tg []int, k int) ([]float32, []float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	logits, g, err := im.InputGradients(ctx, b, tg)
	if err != nil {
		return nil, nil, err
	}
	if len(g) != len(b.Data) {
		return nil, nil, fmt.Errorf("%w: %d input gradients for %d inputs", ErrShape, len(g), len(b.Data))
	}
	if len(logits) == 0 || len(logits)%b.N != 0 {
		return nil, nil, fmt.Errorf("%w: %d logits for %d images", ErrShape, len(logits), b.N)
	}
	if k < 0 {
		if err := checkRange(tg, len(logits)/b.N); err != nil {
			return nil, nil, err
		}
	}
	return logits, g, nil
}

// absMax writes into dst (plane) max_c |g[c,·]|.
func absMax(dst []float64, g []float32, c int) {
	plane := len(dst)
	clear(dst)
	for ch := range c {
		for i, v := range g[ch*plane : (ch+1)*plane] {
			dst[i] = max(dst[i], math.Abs(float64(v)))
		}
	}
}

// scoresAndTargets runs a logits-only forward pass and resolves the
// target classes.
func scoresAndTargets(ctx context.Context, m Model, b Batch, o *Options) (Activations, [][]int, error) {
	fw, err := forward(ctx, m, b, o.Layer, false)
	if err != nil {
		return Activations{}, nil, err
	}
	t, err := o.Target.resolve(b.N, fw.K, fw.Logits)
	return fw, t, err
}
