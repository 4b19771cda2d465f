package cam

import "context"

// HiResCAM (Draelos and Carin 2020), as pytorch-grad-cam computes it: the
// element-wise product summed over channels,
//
//	map[y,x] = max(0, Σ_c g[c,y,x] · A[c,y,x])
//
// with g = ∂s_k/∂A. For a GAP→linear head it equals the ReLU'd CAM up to a
// positive factor.
type HiResCAM struct{}

// Name returns "hirescam".
func (HiResCAM) Name() string { return "hirescam" }

func (HiResCAM) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	return computeGrad(ctx, m, b, o, hiResCAMMap)
}

func hiResCAMMap(dst []float64, a, g []float32, c, h, w int) {
	clear(dst)
	for i, v := range a[:c*h*w] {
		dst[i%(h*w)] += float64(g[i]) * float64(v)
	}
	relu(dst)
}
