package resample

import "math"

// keysA is OpenCV's cubic kernel parameter.
const keysA float32 = -0.75

// cubicWeights returns the four Keys weights for the fraction x in [0, 1),
// computed in float32 as OpenCV's interpolateCubic does.
func cubicWeights(x float32) [4]float32 {
	const a = keysA
	x1 := float32(x + 1)
	w0 := float32(float32(float32(float32(float32(a*x1)-5*a)*x1)+8*a)*x1) - 4*a
	w1 := float32(float32(float32(float32(float32((a+2)*x)-(a+3))*x)*x) + 1)
	ox := float32(1 - x)
	w2 := float32(float32(float32(float32(float32((a+2)*ox)-(a+3))*ox)*ox) + 1)
	w3 := float32(float32(float32(1-w0)-w1) - w2)
	return [4]float32{w0, w1, w2, w3}
}

// coord returns OpenCV's source index and float32 fraction for destination
// index d at the given scale (in/out).
func coord(d int, scale float64) (int, float32) {
	f := float32((float64(d)+0.5)*scale - 0.5)
	i := int(math.Floor(float64(f)))
	return i, float32(f - float32(i))
}

func clamp(i, n int) int {
	if i < 0 {
		return 0
	}
	if i >= n {
		return n - 1
	}
	return i
}

func check(dst []float64, dw, dh int, src []float64, sw, sh int) {
	if sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 {
		panic("resample: non-positive size")
	}
	if len(src) != sw*sh || len(dst) != dw*dh {
		panic("resample: slice length does not match size")
	}
}

// axis holds, for every destination index, the first source index of the
// kernel support (already clamped per tap) and the weights.
type axis struct {
	idx [][4]int
	w   [][4]float64
}

func cubicAxis(in, out int) axis {
	scale := 1 / (float64(out) / float64(in))
	ax := axis{idx: make([][4]int, out), w: make([][4]float64, out)}
	for d := range out {
		i, f := coord(d, scale)
		cw := cubicWeights(f)
		for k := range 4 {
			ax.idx[d][k] = clamp(i-1+k, in)
			ax.w[d][k] = float64(cw[k])
		}
	}
	return ax
}

// Cubic writes into dst (dw×dh) the OpenCV INTER_CUBIC resize of src (sw×sh).
// dst must not alias src.
//
// Cubic panics if a size is not positive or a slice length is not the
// product of its sizes (a caller bug).
func Cubic(dst []float64, dw, dh int, src []float64, sw, sh int) {
	check(dst, dw, dh, src, sw, sh)
	ax := cubicAxis(sw, dw)
	ay := cubicAxis(sh, dh)
	// Horizontal pass for every source row, then the vertical pass.
	tmp := make([]float64, dw*sh)
	for y := range sh {
		row := src[y*sw : (y+1)*sw]
		out := tmp[y*dw : (y+1)*dw]
		for x := range dw {
			id, w := &ax.idx[x], &ax.w[x]
			v := float64(row[id[0]] * w[0])
			v += float64(row[id[1]] * w[1])
			v += float64(row[id[2]] * w[2])
			v += float64(row[id[3]] * w[3])
			out[x] = v
		}
	}
	for y := range dh {
		id, w := &ay.idx[y], &ay.w[y]
		r0 := tmp[id[0]*dw : (id[0]+1)*dw]
		r1 := tmp[id[1]*dw : (id[1]+1)*dw]
		r2 := tmp[id[2]*dw : (id[2]+1)*dw]
		r3 := tmp[id[3]*dw : (id[3]+1)*dw]
		out := dst[y*dw : (y+1)*dw]
		for x := range dw {
			v := float64(r0[x] * w[0])
			v += float64(r1[x] * w[1])
			v += float64(r2[x] * w[2])
			v += float64(r3[x] * w[3])
			out[x] = v
		}
	}
}

// linearAxis returns the INTER_LINEAR taps. Along x (edge true) OpenCV
// moves border taps onto the edge pixel with weights 1 and 0; along y it
// keeps the fraction and clamps the two rows, so a border row is
// s*(1-f) + s*f, which may differ from s in the last bit.
func linearAxis(in, out int, edge bool) axis {
	scale := 1 / (float64(out) / float64(in))
	ax := axis{idx: make([][4]int, out), w: make([][4]float64, out)}
	for d := range out {
		i, f := coord(d, scale)
		if edge && i < 0 {
			i, f = 0, 0
		}
		if edge && i >= in-1 {
			i, f = in-1, 0
		}
		ax.idx[d][0] = clamp(i, in)
		ax.idx[d][1] = clamp(i+1, in)
		ax.w[d][0] = float64(float32(1 - f))
		ax.w[d][1] = float64(f)
	}
	return ax
}

// Linear writes into dst (dw×dh) the OpenCV INTER_LINEAR resize of src
// (sw×sh). dst must not alias src.
//
// Linear panics if a size is not positive or a slice length is not the
// product of its sizes (a caller bug).
func Linear(dst []float64, dw, dh int, src []float64, sw, sh int) {
	check(dst, dw, dh, src, sw, sh)
	ax := linearAxis(sw, dw, true)
	ay := linearAxis(sh, dh, false)
	tmp := make([]float64, dw*sh)
	for y := range sh {
		row := src[y*sw : (y+1)*sw]
		out := tmp[y*dw : (y+1)*dw]
		for x := range dw {
			id, w := &ax.idx[x], &ax.w[x]
			out[x] = float64(row[id[0]]*w[0]) + float64(row[id[1]]*w[1])
		}
	}
	for y := range dh {
		id, w := &ay.idx[y], &ay.w[y]
		r0 := tmp[id[0]*dw : (id[0]+1)*dw]
		r1 := tmp[id[1]*dw : (id[1]+1)*dw]
		out := dst[y*dw : (y+1)*dw]
		for x := range dw {
			out[x] = float64(r0[x]*w[0]) + float64(r1[x]*w[1])
		}
	}
}

// NearestIndex returns OpenCV's INTER_NEAREST source index for destination
// index d when resizing a length-in axis to length out:
// min(floor(d*(1/(out/in))), in-1).
func NearestIndex(d, in, out int) int {
	scale := 1 / (float64(out) / float64(in))
	i := int(math.Floor(float64(d) * scale))
	return min(i, in-1)
}

// Nearest writes into dst (dw×dh) the OpenCV INTER_NEAREST resize of src
// (sw×sh). dst must not alias src.
//
// Nearest panics if a size is not positive or a slice length is not the
// product of its sizes (a caller bug).
func Nearest(dst []float64, dw, dh int, src []float64, sw, sh int) {
	check(dst, dw, dh, src, sw, sh)
	xs := make([]int, dw)
	for x := range dw {
		xs[x] = NearestIndex(x, sw, dw)
	}
	for y := range dh {
		row := src[NearestIndex(y, sh, dh)*sw:]
		out := dst[y*dw : (y+1)*dw]
		for x, sx := range xs {
			out[x] = row[sx]
		}
	}
}
