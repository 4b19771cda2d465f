package cam

import (
	"context"
	"math"

	"gonum.org/v1/gonum/mat"
)

// EigenCAM is Eigen-CAM (Muhammad and Yeasin 2020) as pytorch-grad-cam's
// get_2d_projection computes it: the activations of one image as an
// (H·W)×C matrix, NaN set to 0, each column centred, projected on the first
// right singular vector (gonum mat.SVD), then ReLU:
//
//	map = max(0, (X − mean_rows X) · v₁)
//
// The SVD's sign is arbitrary (pytorch-grad-cam leaves it to LAPACK); here
// it is fixed so that the projection correlates non-negatively with the
// channel mean of X, i.e. the map follows where activations are large.
// Eigen-CAM is class-agnostic: every target class of an image gets the same
// map. It needs only Model.
type EigenCAM struct{}

// Name returns "eigencam".
func (EigenCAM) Name() string { return "eigencam" }

func (EigenCAM) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	fw, err := forward(ctx, m, b, o.Layer, true)
	if err != nil {
		return nil, err
	}
	targets, err := o.Target.resolve(b.N, fw.K, fw.Logits)
	if err != nil {
		return nil, err
	}
	var rs []Result
	for n, cls := range targets {
		mp := NewMap(fw.W, fw.H)
		principal(mp.V, fw.image(n), fw.C, fw.H*fw.W)
		relu(mp.V)
		for j, k := range cls {
			r := Result{Image: n, Class: k, Score: fw.logits(n)[k], Map: mp}
			if j > 0 {
				r.Map = Map{W: mp.W, H: mp.H, V: append([]float64(nil), mp.V...)}
			}
			rs = append(rs, r)
		}
	}
	o.progress(1, 1)
	return rs, nil
}

// EigenGradCAM is pytorch-grad-cam's EigenGradCAM: the Eigen-CAM
// projection (see EigenCAM, same sign rule) of the element-wise product
// g·A, then ReLU, with g = ∂s_k/∂A.
type EigenGradCAM struct{}

// Name returns "eigengradcam".
func (EigenGradCAM) Name() string { return "eigengradcam" }

func (EigenGradCAM) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	return computeGrad(ctx, m, b, o, eigenGradCAMMap)
}

func eigenGradCAMMap(dst []float64, a, g []float32, c, h, w int) {
	p := make([]float32, c*h*w)
	for i, v := range a[:c*h*w] {
		p[i] = g[i] * v
	}
	principal(dst, p, c, h*w)
	relu(dst)
}

// principal writes into dst (hw) the projection of the column-centred
// hw×c matrix X[i,ch] = m[ch*hw+i] (NaN read as 0) on its first right
// singular vector v₁ (computed as σ₁·u₁ from gonum's thin SVD), signed so that Σ_i dst[i]·mean_ch X[i,ch] ≥ 0. If the
// SVD fails, dst is zeroed.
func principal(dst []float64, m []float32, c, hw int) {
	x := mat.NewDense(hw, c, nil)
	rowMean := make([]float64, hw)
	for ch := range c {
		s := m[ch*hw : (ch+1)*hw]
		var mean float64
		for _, v := range s {
			if !math.IsNaN(float64(v)) {
				mean += float64(v)
			}
		}
		mean /= float64(hw)
		for i, v := range s {
			f := float64(v)
			if math.IsNaN(f) {
				f = 0
			}
			rowMean[i] += f / float64(c)
			x.Set(i, ch, f-mean)
		}
	}
	// X·v₁ = σ₁·u₁: only U is needed, which is hw×hw where V would be c×hw.
	var svd mat.SVD
	if !svd.Factorize(x, mat.SVDThinU) {
		clear(dst)
		return
	}
	var u mat.Dense
	svd.UTo(&u)
	s1 := svd.Values(nil)[0]
	for i := range dst {
		dst[i] = s1 * u.At(i, 0)
	}
	var dot float64
	for i, val := range dst {
		dot += val * rowMean[i]
	}
	if dot < 0 {
		for i := range dst {
			dst[i] = -dst[i]
		}
	}
}
