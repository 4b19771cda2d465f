package cam

import (
	"context"
	"math"

	"github.com/cutmixcam/cutmix-cam/internal/resample"
)

// ScoreCAM is Score-CAM (Wang et al. 2020) as pytorch-grad-cam computes
// it. For each channel c of the layer:
//
//	U_c   = A[c] upsampled bilinearly to the input size
//	M_c   = (U_c − min U_c) / (max U_c − min U_c + 1e-8)
//	s_c   = score of class k for the input multiplied by M_c (every input channel)
//	w     = softmax_c(s)
//	map   = max(0, Σ_c w_c · A[c])
//
// The masked inputs go to Model.Forward BatchSize at a time, so an image
// with C channels costs ⌈C/BatchSize⌉ forward calls (plus one); all target
// classes share them. It needs only Model.
//
// The zero value is pytorch-grad-cam's configuration. A ScoreCAM is safe
// for concurrent use.
type ScoreCAM struct {
	// BatchSize is the number of masked images per Forward call;
	// 0 means 16, pytorch-grad-cam's default.
	BatchSize int
	// HalfPixel selects the upsampling: false (default) uses
	// align_corners=True, what pytorch-grad-cam's
	// torch.nn.UpsamplingBilinear2d does; true uses align_corners=False
	// (half-pixel centres, OpenCV INTER_LINEAR, torch-cam's
	// F.interpolate).
	HalfPixel bool
}

// Name returns "scorecam".
func (ScoreCAM) Name() string { return "scorecam" }

func (s ScoreCAM) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	bs := s.BatchSize
	if bs <= 0 {
		bs = 16
	}
	fw, err := forward(ctx, m, b, o.Layer, true)
	if err != nil {
		return nil, err
	}
	targets, err := o.Target.resolve(b.N, fw.K, fw.Logits)
	if err != nil {
		return nil, err
	}
	c, h, w := fw.C, fw.H, fw.W
	hw := h * w
	in := b.C * b.H * b.W
	plane := b.H * b.W
	calls := (c + bs - 1) / bs
	total, done := b.N*calls+1, 1
	o.progress(done, total)

	up := make([]float64, plane)
	src := make([]float64, hw)
	mb := Batch{C: b.C, H: b.H, W: b.W, Data: make([]float32, bs*in)}
	var rs []Result
	for n, cls := range targets {
		x := b.image(n)
		a := fw.image(n)
		scores := make([][]float64, len(cls)) // [target][channel]
		for j := range scores {
			scores[j] = make([]float64, c)
		}
		for c0 := 0; c0 < c; c0 += bs {
			nb := min(bs, c-c0)
			for i := range nb {
				for p, v := range a[(c0+i)*hw : (c0+i+1)*hw] {
					src[p] = float64(v)
				}
				if s.HalfPixel {
					resample.Linear(up, b.W, b.H, src, w, h)
				} else {
					bilinearAlignCorners(up, b.W, b.H, src, w, h)
				}
				lo, hi := math.Inf(1), math.Inf(-1)
				for _, v := range up {
					lo, hi = min(lo, v), max(hi, v)
				}
				d := hi - lo + 1e-8
				dst := mb.Data[i*in : (i+1)*in]
				for ic := range b.C {
					xs, ds := x[ic*plane:(ic+1)*plane], dst[ic*plane:(ic+1)*plane]
					for p, u := range up {
						ds[p] = xs[p] * float32((u-lo)/d)
					}
				}
			}
			mb.N = nb
			mb.Data = mb.Data[:nb*in]
			out, err := forward(ctx, m, mb, o.Layer, false)
			mb.Data = mb.Data[:cap(mb.Data)]
			if err != nil {
				return nil, err
			}
			for i := range nb {
				lg := out.logits(i)
				for j, k := range cls {
					scores[j][c0+i] = float64(lg[k])
				}
			}
			done++
			o.progress(done, total)
		}
		for j, k := range cls {
			wts := softmax(scores[j])
			mp := NewMap(w, h)
			weightedSum(mp.V, a, wts, hw)
			relu(mp.V)
			rs = append(rs, Result{Image: n, Class: k, Score: fw.logits(n)[k], Map: mp})
		}
	}
	return rs, nil
}

// softmax returns the softmax of s, computed stably.
func softmax(s []float64) []float64 {
	hi := math.Inf(-1)
	for _, v := range s {
		hi = max(hi, v)
	}
	out := make([]float64, len(s))
	var sum float64
	for i, v := range s {
		out[i] = math.Exp(v - hi)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// bilinearAlignCorners writes into dst (dw×dh) the bilinear resize of src
// (sw×sh) with PyTorch's align_corners=True: destination index d samples
// source coordinate d·(in−1)/(out−1) (0 when out is 1).
func bilinearAlignCorners(dst []float64, dw, dh int, src []float64, sw, sh int) {
	coord := func(d, in, out int) (int, int, float64) {
		if out <= 1 || in <= 1 {
			return 0, 0, 0
		}
		f := float64(d) * float64(in-1) / float64(out-1)
		i := min(int(f), in-1)
		return i, min(i+1, in-1), f - float64(i)
	}
	for y := range dh {
		y0, y1, fy := coord(y, sh, dh)
		for x := range dw {
			x0, x1, fx := coord(x, sw, dw)
			top := src[y0*sw+x0]*(1-fx) + src[y0*sw+x1]*fx
			bot := src[y1*sw+x0]*(1-fx) + src[y1*sw+x1]*fx
			dst[y*dw+x] = top*(1-fy) + bot*fy
		}
	}
}
