package cam

import "context"

// XGradCAM is XGrad-CAM (Fu et al. 2020) as pytorch-grad-cam computes it:
//
//	w_c = Σ_{y,x} g·A[c,y,x] / (Σ_{y,x} A[c] + 1e-7)
//	map = max(0, Σ_c w_c · A[c])
//
// with g = ∂s_k/∂A[c,y,x].
type XGradCAM struct{}

// Name returns "xgradcam".
func (XGradCAM) Name() string { return "xgradcam" }

func (XGradCAM) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	return computeGrad(ctx, m, b, o, xGradCAMMap)
}

func xGradCAMMap(dst []float64, a, g []float32, c, h, w int) {
	const eps = 1e-7
	hw := h * w
	wts := make([]float64, c)
	for ch := range c {
		ac, gc := a[ch*hw:(ch+1)*hw], g[ch*hw:(ch+1)*hw]
		var sumA, sumGA float64
		for i, v := range ac {
			sumA += float64(v)
			sumGA += float64(gc[i]) * float64(v)
		}
		wts[ch] = sumGA / (sumA + eps)
	}
	weightedSum(dst, a, wts, hw)
	relu(dst)
}
