package cam

import "context"

// LayerCAM (Jiang et al. 2021), as pytorch-grad-cam computes it:
//
//	map[y,x] = max(0, Σ_c max(g[c,y,x], 0) · A[c,y,x])
//
// with g = ∂s_k/∂A. (torch-cam's extra gamma scaling applies only when
// fusing layers, which this package does not do.)
type LayerCAM struct{}

// Name returns "layercam".
func (LayerCAM) Name() string { return "layercam" }

func (LayerCAM) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	return computeGrad(ctx, m, b, o, layerCAMMap)
}

func layerCAMMap(dst []float64, a, g []float32, c, h, w int) {
	clear(dst)
	for i, v := range a[:c*h*w] {
		dst[i%(h*w)] += max(float64(g[i]), 0) * float64(v)
	}
	relu(dst)
}
