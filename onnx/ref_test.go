package onnx_test

import "math"

// This file holds a plain-Go forward pass of the fixture models, written
// from the ONNX operator definitions, to check ONNX Runtime's outputs and
// our graph handling against independently computed values.

// act is an N×C×H×W activation.
type act struct {
	n, c, h, w int
	v          []float32
}

func (a act) at(n, c, y, x int) float32 { return a.v[((n*a.c+c)*a.h+y)*a.w+x] }

// conv is a 2-D convolution with square kernel k, symmetric padding pad and
// stride s; weight is O×C×k×k.
func conv(in act, weight, bias []float32, out, k, pad, s int) act {
	h := (in.h+2*pad-k)/s + 1
	w := (in.w+2*pad-k)/s + 1
	r := act{in.n, out, h, w, make([]float32, in.n*out*h*w)}
	for n := 0; n < in.n; n++ {
		for o := 0; o < out; o++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					sum := float64(bias[o])
					for c := 0; c < in.c; c++ {
						for ky := 0; ky < k; ky++ {
							for kx := 0; kx < k; kx++ {
								iy, ix := y*s-pad+ky, x*s-pad+kx
								if iy < 0 || ix < 0 || iy >= in.h || ix >= in.w {
									continue
								}
								sum += float64(weight[((o*in.c+c)*k+ky)*k+kx]) * float64(in.at(n, c, iy, ix))
							}
						}
					}
					r.v[((n*out+o)*h+y)*w+x] = float32(sum)
				}
			}
		}
	}
	return r
}

func relu(a act) act {
	r := act{a.n, a.c, a.h, a.w, make([]float32, len(a.v))}
	for i, v := range a.v {
		r.v[i] = max(v, 0)
	}
	return r
}

func clip(a act, lo, hi float32) act {
	r := act{a.n, a.c, a.h, a.w, make([]float32, len(a.v))}
	for i, v := range a.v {
		r.v[i] = min(max(v, lo), hi)
	}
	return r
}

// batchNorm applies inference-mode batch normalisation per channel.
func batchNorm(a act, scale, bias, mean, variance []float32, eps float64) act {
	r := act{a.n, a.c, a.h, a.w, make([]float32, len(a.v))}
	for i, v := range a.v {
		c := (i / (a.h * a.w)) % a.c
		r.v[i] = float32(float64(scale[c])*(float64(v)-float64(mean[c]))/math.Sqrt(float64(variance[c])+eps) + float64(bias[c]))
	}
	return r
}

// meanPool averages each channel: N×C.
func meanPool(a act) []float32 {
	out := make([]float32, a.n*a.c)
	for n := 0; n < a.n; n++ {
		for c := 0; c < a.c; c++ {
			var s float64
			for y := 0; y < a.h; y++ {
				for x := 0; x < a.w; x++ {
					s += float64(a.at(n, c, y, x))
				}
			}
			out[n*a.c+c] = float32(s / float64(a.h*a.w))
		}
	}
	return out
}

// linear computes y = alpha·x·Wᵀ + beta·b for x N×C and W K×C (transposed
// from C×K when wIsCK).
func linear(x []float32, n, c int, w []float32, k int, wIsCK bool, b []float32, alpha, beta float32) []float32 {
	y := make([]float32, n*k)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			var s float64
			for l := 0; l < c; l++ {
				wv := w[j*c+l]
				if wIsCK {
					wv = w[l*k+j]
				}
				s += float64(x[i*c+l]) * float64(wv)
			}
			bv := float32(0)
			if b != nil {
				bv = b[j]
			}
			y[i*k+j] = float32(float64(alpha)*s + float64(beta)*float64(bv))
		}
	}
	return y
}

func softmax(x []float32, n, k int) []float32 {
	y := make([]float32, len(x))
	for i := 0; i < n; i++ {
		row := x[i*k : (i+1)*k]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v) - mx)
		}
		for j, v := range row {
			y[i*k+j] = float32(math.Exp(float64(v)-mx) / s)
		}
	}
	return y
}

// refTinyCAM returns the "features" activation and logits of
// testdata/models/tiny_cam.onnx.
func refTinyCAM(w map[string][]float32, x []float32, n int) (act, []float32) {
	in := act{n, 3, 16, 16, x}
	f := relu(conv(relu(conv(in, w["conv1.w"], w["conv1.b"], 4, 3, 1, 1)), w["conv2.w"], w["conv2.b"], 6, 3, 1, 2))
	return f, linear(meanPool(f), n, 6, w["fc.w"], 5, false, w["fc.b"], 1, 1)
}

// refTinyGray returns the "act" activation and probabilities of
// testdata/models/tiny_gray_static.onnx.
func refTinyGray(w map[string][]float32, x []float32, n int) (act, []float32) {
	in := act{n, 1, 8, 8, x}
	a := clip(batchNorm(conv(in, w["conv.w"], w["conv.b"], 3, 3, 1, 1), w["bn.scale"], w["bn.bias"], w["bn.mean"], w["bn.var"], 1e-5), 0, 6)
	return a, softmax(linear(meanPool(a), n, 3, w["head.w"], 4, true, w["head.b"], 1, 1), n, 4)
}

// refTinyAvgPool returns the "r" activation and scores of
// testdata/models/tiny_avgpool.onnx.
func refTinyAvgPool(w map[string][]float32, x []float32, n int) (act, []float32) {
	in := act{n, 3, 12, 12, x}
	a := relu(conv(in, w["c.w"], w["c.b"], 4, 3, 0, 1))
	return a, linear(meanPool(a), n, 4, w["g.w"], 3, true, w["g.b"], 0.5, 1)
}
