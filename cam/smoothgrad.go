package cam

import (
	"context"
	"math"
	"math/rand/v2"
)

// SmoothGrad (Smilkov et al. 2017) averages the saliency of noisy copies
// of the input, as captum's NoiseTunnel around Saliency(abs=True) does:
//
//	σ        = NoiseLevel · (max x − min x)      (per image, all channels)
//	map[y,x] = max_c mean_i |∂s_k/∂x[c,y,x] at x + ε_i|,  ε_i ~ N(0, σ²)
//
// The noise is drawn from Src in a fixed order (image, class, sample,
// element), so a seeded source gives reproducible maps. The map is at the
// input resolution. It needs an InputGradientModel; noisy copies go to
// InputGradients BatchSize at a time.
//
// The zero value takes 25 samples at noise level 0.15 from a PCG seeded
// with (0, 0). A SmoothGrad with a non-nil Src is not safe for concurrent
// use, since Compute draws from Src.
type SmoothGrad struct {
	// Samples is the number of noisy copies; 0 means 25.
	Samples int
	// NoiseLevel is σ as a fraction of the image's value range;
	// 0 means 0.15 (Smilkov et al.'s 10–20%).
	NoiseLevel float64
	// Src is the noise source; nil means rand.NewPCG(0, 0).
	Src rand.Source
	// BatchSize is the number of copies per InputGradients call;
	// 0 means 16.
	BatchSize int
}

// Name returns "smoothgrad".
func (SmoothGrad) Name() string { return "smoothgrad" }

func (sg SmoothGrad) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	im, err := inputModel(m)
	if err != nil {
		return nil, err
	}
	samples := sg.Samples
	if samples <= 0 {
		samples = 25
	}
	level := sg.NoiseLevel
	if level <= 0 {
		level = 0.15
	}
	src := sg.Src
	if src == nil {
		src = rand.NewPCG(0, 0)
	}
	rng := rand.New(src)
	bs := sg.BatchSize
	if bs <= 0 {
		bs = 16
	}
	fw, targets, err := scoresAndTargets(ctx, m, b, o)
	if err != nil {
		return nil, err
	}
	in := b.C * b.H * b.W
	calls := (samples + bs - 1) / bs
	total, done := b.N*len(targets[0])*calls+1, 1
	o.progress(done, total)
	nb := Batch{C: b.C, H: b.H, W: b.W, Data: make([]float32, min(bs, samples)*in)}
	tg := make([]int, min(bs, samples))
	var rs []Result
	for n, cls := range targets {
		x := b.image(n)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range x {
			lo, hi = min(lo, float64(v)), max(hi, float64(v))
		}
		sigma := level * (hi - lo)
		for _, k := range cls {
			acc := make([]float64, in)
			for s0 := 0; s0 < samples; s0 += bs {
				cnt := min(bs, samples-s0)
				for i := range cnt {
					d := nb.Data[i*in : (i+1)*in]
					for j, v := range x {
						d[j] = v + float32(sigma*rng.NormFloat64())
					}
					tg[i] = k
				}
				nb.N = cnt
				nb.Data = nb.Data[:cnt*in]
				_, g, err := inputGradients(ctx, im, nb, tg[:cnt], fw.K)
				nb.Data = nb.Data[:cap(nb.Data)]
				if err != nil {
					return nil, err
				}
				for j, v := range g {
					acc[j%in] += math.Abs(float64(v))
				}
				done++
				o.progress(done, total)
			}
			mp := NewMap(b.W, b.H)
			plane := b.H * b.W
			for ch := range b.C {
				for i, v := range acc[ch*plane : (ch+1)*plane] {
					mp.V[i] = max(mp.V[i], v/float64(samples))
				}
			}
			rs = append(rs, Result{Image: n, Class: k, Score: fw.logits(n)[k], Map: mp})
		}
	}
	return rs, nil
}
