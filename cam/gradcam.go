package cam

import "context"

// GradCAM is Grad-CAM (Selvaraju et al. 2017) as pytorch-grad-cam
// computes it:
//
//	w_c = mean_{y,x} ∂s_k/∂A[c,y,x]
//	map = max(0, Σ_c w_c · A[c])
//
// For a GAP→linear head w_c = W[k,c]/(H·W), so the map is the ReLU'd CAM
// up to a positive factor.
type GradCAM struct{}

// Name returns "gradcam".
func (GradCAM) Name() string { return "gradcam" }

func (GradCAM) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	return computeGrad(ctx, m, b, o, gradCAMMap)
}

func gradCAMMap(dst []float64, a, g []float32, c, h, w int) {
	hw := h * w
	wts := make([]float64, c)
	for ch := range c {
		var s float64
		for _, v := range g[ch*hw : (ch+1)*hw] {
			s += float64(v)
		}
		wts[ch] = s / float64(hw)
	}
	weightedSum(dst, a, wts, hw)
	relu(dst)
}
