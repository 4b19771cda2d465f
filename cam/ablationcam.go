package cam

import "context"

// AblationCAM is Ablation-CAM (Desai and Ramaswamy 2020) with
// pytorch-grad-cam's weights and ablation value, computed in closed form
// from the layer's GAP→linear head (it needs a HeadModel and never
// modifies the model):
//
//	s      = score of class k
//	s_c    = score with channel c replaced by the fill value
//	w_c    = (s − s_c) / s
//	map    = max(0, Σ_c w_c · A[c])
//
// As in pytorch-grad-cam's AblationLayer the fill value is 0 when the
// image's smallest activation is exactly 0 (post-ReLU layers), else that
// minimum − 1e7. For the head, s − s_c = W[k,c] · (mean_{y,x} A[c] − fill)
// exactly, the score the head would give the ablated activations; this
// replaces pytorch-grad-cam's batched re-run. (pytorch-grad-cam lowers the
// fill by a further 1e7 for each earlier channel of the same batch when the
// minimum is not 0, a batch-size-dependent quirk not reproduced here.) A
// zero score gives non-finite weights, which Normalize maps to zeros.
type AblationCAM struct{}

// Name returns "ablationcam".
func (AblationCAM) Name() string { return "ablationcam" }

func (AblationCAM) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	return computeHead(ctx, m, b, o, ablationMap)
}

func ablationMap(dst []float64, a []float32, wk []float32, score float64, c, hw int) {
	const ablationValue = 1e7
	lo := float64(a[0])
	for _, v := range a[:c*hw] {
		lo = min(lo, float64(v))
	}
	fill := 0.0
	if lo != 0 {
		fill = lo - ablationValue
	}
	wts := make([]float64, c)
	for ch := range c {
		var mean float64
		for _, v := range a[ch*hw : (ch+1)*hw] {
			mean += float64(v)
		}
		mean /= float64(hw)
		wts[ch] = float64(wk[ch]) * (mean - fill) / score
	}
	weightedSum(dst, a, wts, hw)
	relu(dst)
}
