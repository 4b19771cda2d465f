package cam

import "context"

// CAM is the class activation map of Zhou et al. (2016) in the
// wsolevaluation convention (REFERENCE A.1):
//
//	map[y,x] = mean_c W[k,c] · A[c,y,x]
//
// with W the head's weight row of class k; mean over channels, no bias and
// no ReLU. It needs a HeadModel. After Scoremap (bicubic, then min-max) it
// is the map wsolevaluation scores. torch-cam's CAM (a channel sum, no
// ReLU) normalises to the same map.
type CAM struct{}

// Name returns "cam".
func (CAM) Name() string { return "cam" }

func (CAM) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	return computeHead(ctx, m, b, o, camMap)
}

func camMap(dst []float64, a []float32, wk []float32, _ float64, c, hw int) {
	wts := make([]float64, c)
	for i, v := range wk {
		wts[i] = float64(v) / float64(c)
	}
	weightedSum(dst, a, wts, hw)
}

// CAMReLU is the common ReLU'd CAM variant, labelled "cam-relu":
//
//	map[y,x] = max(0, Σ_c W[k,c] · A[c,y,x])
//
// It differs from CAM after normalisation only where the CAM is negative,
// which it clips to the minimum. It needs a HeadModel.
type CAMReLU struct{}

// Name returns "cam-relu".
func (CAMReLU) Name() string { return "cam-relu" }

func (CAMReLU) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	return computeHead(ctx, m, b, o, func(dst []float64, a []float32, wk []float32, _ float64, c, hw int) {
		wts := make([]float64, c)
		for i, v := range wk {
			wts[i] = float64(v)
		}
		weightedSum(dst, a, wts, hw)
		relu(dst)
	})
}

// headFunc writes into dst (hw) the raw map of one image from its
// activations a (c×hw), the head row wk of the explained class and that
// class's score.
type headFunc func(dst []float64, a []float32, wk []float32, score float64, c, hw int)

// computeHead runs a method that needs the layer's linear head.
func computeHead(ctx context.Context, m Model, b Batch, o *Options, f headFunc) ([]Result, error) {
	fw, err := forward(ctx, m, b, o.Layer, true)
	if err != nil {
		return nil, err
	}
	hd, err := linearHead(ctx, m, o.Layer, fw)
	if err != nil {
		return nil, err
	}
	targets, err := o.Target.resolve(b.N, fw.K, fw.Logits)
	if err != nil {
		return nil, err
	}
	c, hw := fw.C, fw.H*fw.W
	var rs []Result
	for n, cls := range targets {
		for _, k := range cls {
			mp := NewMap(fw.W, fw.H)
			s := fw.logits(n)[k]
			f(mp.V, fw.image(n), hd.Weight[k*c:(k+1)*c], float64(s), c, hw)
			rs = append(rs, Result{Image: n, Class: k, Score: s, Map: mp})
		}
	}
	o.progress(1, 1)
	return rs, nil
}
