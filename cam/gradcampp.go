package cam

import "context"

// GradCAMPlusPlus is Grad-CAM++ (Chattopadhay et al. 2018) with
// pytorch-grad-cam's closed form of the second and third derivatives
// (exponential-output assumption):
//
//	α[c,y,x] = g² / (2g² + (Σ_{y,x} A[c]) · g³ + 1e-6), and 0 where g = 0
//	w_c = Σ_{y,x} max(g, 0) · α
//	map = max(0, Σ_c w_c · A[c])
//
// with g = ∂s_k/∂A[c,y,x].
type GradCAMPlusPlus struct{}

// Name returns "gradcam++".
func (GradCAMPlusPlus) Name() string { return "gradcam++" }

func (GradCAMPlusPlus) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	return computeGrad(ctx, m, b, o, gradCAMPPMap)
}

func gradCAMPPMap(dst []float64, a, g []float32, c, h, w int) {
	const eps = 1e-6
	hw := h * w
	wts := make([]float64, c)
	for ch := range c {
		ac, gc := a[ch*hw:(ch+1)*hw], g[ch*hw:(ch+1)*hw]
		var sumA float64
		for _, v := range ac {
			sumA += float64(v)
		}
		var s float64
		for _, gv := range gc {
			if gv == 0 {
				continue
			}
			g1 := float64(gv)
			g2 := g1 * g1
			g3 := g2 * g1
			alpha := g2 / (2*g2 + sumA*g3 + eps)
			s += max(g1, 0) * alpha
		}
		wts[ch] = s
	}
	weightedSum(dst, a, wts, hw)
	relu(dst)
}
