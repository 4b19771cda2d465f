package cam

import "context"

// Occlusion is occlusion sensitivity (Zeiler and Fergus 2014) as captum's
// Occlusion computes it with a scalar baseline: a Window×Window patch of
// every input channel is set to Fill, and each pixel's value is the mean,
// over the patches covering it, of the score drop
//
//	map[y,x] = mean_{patches ∋ (x,y)} (s − s_patch)
//
// for class k. The map is at the input resolution and keeps its sign (no
// ReLU): positive where hiding the pixel lowers the score. Patches start at
// 0, Stride, 2·Stride, …; unlike captum, when the last patch does not reach
// the border one more patch is placed flush with it, so every pixel is
// covered. Occluded images go to Model.Forward BatchSize at a time.
//
// The zero value is a 16-pixel window with stride 8 and fill 0. An
// Occlusion is safe for concurrent use.
type Occlusion struct {
	// Window is the patch side in input pixels; 0 means 16. It is
	// clipped to the input size.
	Window int
	// Stride is the step between patches; 0 means Window/2 (at least 1).
	Stride int
	// Fill is written into every input channel of the patch, in the
	// model's input space: after the usual mean/std normalisation, 0 is
	// the data set's mean colour.
	Fill float32
	// BatchSize is the number of occluded images per Forward call;
	// 0 means 16.
	BatchSize int
}

// Name returns "occlusion".
func (Occlusion) Name() string { return "occlusion" }

// starts returns the patch origins along an axis of length n.
func starts(n, win, stride int) []int {
	var s []int
	for p := 0; p+win <= n; p += stride {
		s = append(s, p)
	}
	if last := s[len(s)-1]; last+win < n {
		s = append(s, n-win)
	}
	return s
}

func (oc Occlusion) compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error) {
	win := oc.Window
	if win <= 0 {
		win = 16
	}
	winX, winY := min(win, b.W), min(win, b.H)
	stride := oc.Stride
	if stride <= 0 {
		stride = max(win/2, 1)
	}
	bs := oc.BatchSize
	if bs <= 0 {
		bs = 16
	}
	fw, err := forward(ctx, m, b, o.Layer, false)
	if err != nil {
		return nil, err
	}
	targets, err := o.Target.resolve(b.N, fw.K, fw.Logits)
	if err != nil {
		return nil, err
	}
	xs, ys := starts(b.W, winX, stride), starts(b.H, winY, stride)
	type patch struct{ x, y int }
	var patches []patch
	for _, y := range ys {
		for _, x := range xs {
			patches = append(patches, patch{x, y})
		}
	}
	in, plane := b.C*b.H*b.W, b.H*b.W
	calls := (len(patches) + bs - 1) / bs
	total, done := b.N*calls+1, 1
	o.progress(done, total)

	count := make([]float64, plane)
	for _, p := range patches {
		for y := p.y; y < p.y+winY; y++ {
			for x := p.x; x < p.x+winX; x++ {
				count[y*b.W+x]++
			}
		}
	}
	mb := Batch{C: b.C, H: b.H, W: b.W, Data: make([]float32, bs*in)}
	var rs []Result
	for n, cls := range targets {
		x := b.image(n)
		base := fw.logits(n)
		maps := make([]Map, len(cls))
		for j := range maps {
			maps[j] = NewMap(b.W, b.H)
		}
		for p0 := 0; p0 < len(patches); p0 += bs {
			nb := min(bs, len(patches)-p0)
			for i := range nb {
				dst := mb.Data[i*in : (i+1)*in]
				copy(dst, x)
				p := patches[p0+i]
				for ic := range b.C {
					for y := p.y; y < p.y+winY; y++ {
						row := dst[ic*plane+y*b.W:]
						for xx := p.x; xx < p.x+winX; xx++ {
							row[xx] = oc.Fill
						}
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
				p := patches[p0+i]
				for j, k := range cls {
					d := float64(base[k]) - float64(out.logits(i)[k])
					v := maps[j].V
					for y := p.y; y < p.y+winY; y++ {
						for xx := p.x; xx < p.x+winX; xx++ {
							v[y*b.W+xx] += d
						}
					}
				}
			}
			done++
			o.progress(done, total)
		}
		for j, k := range cls {
			for i, c := range count {
				maps[j].V[i] /= c
			}
			rs = append(rs, Result{Image: n, Class: k, Score: base[k], Map: maps[j]})
		}
	}
	return rs, nil
}
