package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cutmixcam/cutmix-cam/onnx/onnxpb"
)

// resizeSpec is the geometry of a Resize or Upsample node over the two
// spatial axes of an NCHW tensor, read the way ONNX Runtime reads it.
type resizeSpec struct {
	mode        string     // nearest, linear or cubic
	coord       string     // coordinate_transformation_mode
	nearest     string     // nearest_mode; "" for the opset-10 rule
	cubicA      float32    // cubic_coeff_a
	exclude     bool       // exclude_outside
	scales      [2]float32 // per spatial axis
	in, out     [2]int64   // spatial sizes
	sinceResize bool       // a Resize of opset 11 or later
}

// resizeRule differentiates Resize and Upsample of the two spatial axes of
// an NCHW tensor. Every mode (nearest, linear, cubic) is linear in the
// input and separable: per image and channel Y = R_h·X·R_wᵀ, with R the
// Lout×Lin sampling matrix of one axis, so ∂X = R_hᵀ·∂Y·R_w, two MatMuls
// with constant matrices. The matrices are computed here from the sampling
// positions and weights ONNX Runtime uses, in float32. Anti-aliasing,
// tf_crop_and_resize and resizing the batch or channel axis are refused.
func resizeRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	x, y := n.GetInput()[0], n.GetOutput()[0]
	xs, ys := b.shapeOf(x), b.shapeOf(y)
	if len(xs) != 4 || len(ys) != 4 {
		return nil, fmt.Errorf("%s of a rank-%d tensor is not supported (NCHW only)", n.GetOpType(), len(xs))
	}
	if xs[0] != ys[0] || xs[1] != ys[1] {
		return nil, errors.New("resizing the batch or channel axis is not supported")
	}
	rs, err := b.resizeSpecOf(n, xs, ys)
	if err != nil {
		return nil, err
	}
	g := gy[0]
	for a := 0; a < 2; a++ {
		m, identity := rs.matrix(a)
		if identity {
			continue
		}
		g = b.adjointAxis(g, x, int64(2+a), 4, rs.out[a], rs.in[a], m)
	}
	return []string{g}, nil
}

// resizeSpecOf reads the attributes and the scales or sizes of n.
func (b *gradBuilder) resizeSpecOf(n *onnxpb.NodeProto, xs, ys []int64) (resizeSpec, error) {
	op := n.GetOpType()
	rs := resizeSpec{
		mode:   attrString(n, "mode", "nearest"),
		coord:  "asymmetric",
		cubicA: attrFloat(n, "cubic_coeff_a", -0.75),
		in:     [2]int64{xs[2], xs[3]},
		out:    [2]int64{ys[2], ys[3]},
	}
	rs.sinceResize = op == "Resize" && b.opset >= 11
	if rs.sinceResize {
		rs.coord = attrString(n, "coordinate_transformation_mode", "half_pixel")
		rs.exclude = attrInt(n, "exclude_outside", 0) != 0
		if rs.mode == "nearest" {
			rs.nearest = attrString(n, "nearest_mode", "round_prefer_floor")
		}
	}
	switch rs.mode {
	case "nearest", "linear", "cubic":
	default:
		return rs, fmt.Errorf("%s mode %q is not supported", op, rs.mode)
	}
	switch rs.coord {
	case "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn":
	default:
		return rs, fmt.Errorf("%s coordinate_transformation_mode %q is not supported", op, rs.coord)
	}
	switch rs.nearest {
	case "", "round_prefer_floor", "round_prefer_ceil", "floor", "ceil":
	default:
		return rs, fmt.Errorf("%s nearest_mode %q is not supported", op, rs.nearest)
	}
	if attrInt(n, "antialias", 0) != 0 {
		return rs, fmt.Errorf("%s with antialias=1 is not supported", op)
	}
	sc, err := b.resizeScales(n, xs)
	if err != nil {
		return rs, err
	}
	if sc[0] != 1 || sc[1] != 1 {
		return rs, errors.New("resizing the batch or channel axis is not supported")
	}
	rs.scales = [2]float32{sc[2], sc[3]}
	return rs, nil
}

// resizeScales returns the scale of every axis of n's input (shape xs):
// from the scales attribute (Upsample before opset 9), the scales input,
// or the sizes input with keep_aspect_ratio_policy applied.
func (b *gradBuilder) resizeScales(n *onnxpb.NodeProto, xs []int64) ([]float32, error) {
	r := len(xs)
	in := n.GetInput()
	get := func(k int) (string, bool) {
		if len(in) > k && in[k] != "" {
			return in[k], true
		}
		return "", false
	}
	if len(in) < 2 { // Upsample before opset 9
		v := attrFloats(n, "scales")
		if len(v) != r {
			return nil, fmt.Errorf("scales %v do not match rank %d", v, r)
		}
		return v, nil
	}
	scalesAt := 1
	if n.GetOpType() == "Resize" && b.opset >= 11 {
		scalesAt = 2
	}
	axes := attrInts(n, "axes")
	if axes == nil {
		for i := 0; i < r; i++ {
			axes = append(axes, int64(i))
		}
	}
	for i, a := range axes {
		if a < 0 {
			axes[i] = a + int64(r)
		}
	}
	sc := make([]float32, r)
	for i := range sc {
		sc[i] = 1
	}
	if t, ok := get(scalesAt); ok {
		v, ok := b.g.constFloats(t)
		if !ok {
			return nil, errors.New("scales input is not constant")
		}
		if len(v) > 0 {
			if len(v) != len(axes) {
				return nil, fmt.Errorf("scales %v do not match axes %v", v, axes)
			}
			for i, a := range axes {
				sc[a] = v[i]
			}
			return sc, nil
		}
	}
	t, ok := get(scalesAt + 1)
	if !ok {
		return nil, errors.New("neither scales nor sizes given")
	}
	sizes, ok := b.constVals(t)
	if !ok || len(sizes) != len(axes) {
		return nil, fmt.Errorf("sizes input %v is not constant or does not match axes %v", sizes, axes)
	}
	for i, a := range axes {
		sc[a] = float32(sizes[i]) / float32(xs[a])
	}
	policy := attrString(n, "keep_aspect_ratio_policy", "stretch")
	if policy == "stretch" {
		return sc, nil
	}
	s := sc[axes[0]]
	for _, a := range axes[1:] {
		switch policy {
		case "not_larger":
			s = min(s, sc[a])
		case "not_smaller":
			s = max(s, sc[a])
		default:
			return nil, fmt.Errorf("keep_aspect_ratio_policy %q is not supported", policy)
		}
	}
	for _, a := range axes {
		sc[a] = s
	}
	return sc, nil
}

// origin maps output coordinate o of spatial axis a to the input
// coordinate it samples, as ONNX Runtime computes it in float32.
func (rs resizeSpec) origin(a int, o int64) float32 {
	x, s := float32(o), rs.scales[a]
	lin, lout := float32(rs.in[a]), float32(rs.out[a])
	switch rs.coord {
	case "asymmetric":
		return x / s
	case "pytorch_half_pixel":
		if lout > 1 {
			return (x+0.5)/s - 0.5
		}
		return 0
	case "tf_half_pixel_for_nn":
		return (x + 0.5) / s
	case "align_corners":
		if lout == 1 {
			return 0
		}
		return x * (lin - 1) / (lout - 1)
	case "half_pixel_symmetric":
		adj := lout / (s * lin)
		offset := lin / 2 * (1 - adj)
		return float32(float64(offset) + (float64(x)+0.5)/float64(s) - 0.5)
	default: // half_pixel
		return (x+0.5)/s - 0.5
	}
}

// nearestPixel rounds an input coordinate by the nearest_mode.
func (rs resizeSpec) nearestPixel(x float32, down bool) int64 {
	f := float64(x)
	switch rs.nearest {
	case "": // opset 10 and Upsample
		if down {
			return int64(math.Ceil(f))
		}
		return int64(f)
	case "round_prefer_ceil":
		return int64(math.Round(f))
	case "floor":
		return int64(math.Floor(f))
	case "ceil":
		return int64(math.Ceil(f))
	default: // round_prefer_floor
		if x == float32(int64(x))+0.5 {
			return int64(math.Floor(f))
		}
		return int64(math.Round(f))
	}
}

// cubicCoeffs returns Keys' cubic convolution weights of the four taps
// around a point at fraction s past a sample, in float32.
func cubicCoeffs(s, a float32) [4]float32 {
	s = float32(math.Abs(float64(s)))
	return [4]float32{
		((a*(s+1)-5*a)*(s+1)+8*a)*(s+1) - 4*a,
		((a+2)*s-(a+3))*s*s + 1,
		((a+2)*(1-s)-(a+3))*(1-s)*(1-s) + 1,
		((a*(2-s)-5*a)*(2-s)+8*a)*(2-s) - 4*a,
	}
}

// matrix returns the row-major Lout×Lin sampling matrix of spatial axis a,
// and whether it is the identity.
func (rs resizeSpec) matrix(a int) ([]float64, bool) {
	lin, lout := rs.in[a], rs.out[a]
	m := make([]float64, lout*lin)
	put := func(o, i int64, w float64) { m[o*lin+i] += w }
	for o := int64(0); o < lout; o++ {
		x := float32(o)
		if rs.scales[a] != 1 {
			x = rs.origin(a, o)
		}
		switch rs.mode {
		case "nearest":
			i := o
			if rs.scales[a] != 1 {
				i = min(max(rs.nearestPixel(x, rs.scales[a] < 1), 0), lin-1)
			}
			put(o, i, 1)
		case "linear":
			x = min(max(x, 0), float32(lin-1))
			i1 := min(int64(x), lin-1)
			i2 := min(i1+1, lin-1)
			d1, d2 := float32(math.Abs(float64(x-float32(i1)))), float32(math.Abs(float64(x-float32(i2))))
			if i1 == i2 {
				d1, d2 = 0.5, 0.5
			}
			put(o, i1, float64(d2))
			put(o, i2, float64(d1))
		default: // cubic
			fl := math.Floor(float64(x))
			c := cubicCoeffs(x-float32(fl), rs.cubicA)
			sum := float32(1)
			if rs.exclude {
				sum = 0
				for k := range c {
					if i := int64(fl) - 1 + int64(k); i < 0 || i >= lin {
						c[k] = 0
					}
					sum += c[k]
				}
			}
			for k, w := range c {
				i := min(max(int64(fl)-1+int64(k), 0), lin-1)
				put(o, i, float64(w/sum))
			}
		}
	}
	identity := lin == lout
	for k, w := range m {
		if identity && w != 0 && (w != 1 || int64(k)/lin != int64(k)%lin) {
			identity = false
		}
	}
	return m, identity
}

// adjointAxis applies the transpose of the row-major m×d matrix w along
// axis of g (rank r, length m there): the result has length d there, with
// out[…, i, …] = Σ_j w[j·d+i]·g[…, j, …]. Its element type is like's.
func (b *gradBuilder) adjointAxis(g, like string, axis int64, r int, m, d int64, w []float64) string {
	switch axis {
	case int64(r - 1):
		return b.bin("MatMul", g, b.fconst(b.dtype(like), []int64{m, d}, w))
	case int64(r - 2):
		wt := make([]float64, len(w))
		for j := int64(0); j < m; j++ {
			for i := int64(0); i < d; i++ {
				wt[i*m+j] = w[j*d+i]
			}
		}
		return b.bin("MatMul", b.fconst(b.dtype(like), []int64{d, m}, wt), g)
	}
	perm := make([]int64, 0, r)
	for i := 0; i < r; i++ {
		if int64(i) != axis {
			perm = append(perm, int64(i))
		}
	}
	perm = append(perm, axis)
	inv := make([]int64, r)
	for i, p := range perm {
		inv[p] = int64(i)
	}
	t := b.bin("MatMul", b.transpose(g, perm), b.fconst(b.dtype(like), []int64{m, d}, w))
	return b.transpose(t, inv)
}

// scatterAxis is the adjoint of gathering along axis with indices src:
// slice j of g goes to position src[j] of d (nowhere when src[j] < 0), and
// slices sent to one position add up.
func (b *gradBuilder) scatterAxis(g, like string, axis int64, r int, src []int64, d int64) string {
	m := int64(len(src))
	w := make([]float64, m*d)
	for j, s := range src {
		if s >= 0 {
			w[int64(j)*d+s]++
		}
	}
	return b.adjointAxis(g, like, axis, r, m, d, w)
}

func attrFloats(n *onnxpb.NodeProto, name string) []float32 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetFloats()
		}
	}
	return nil
}

// constFloats reads a float initializer or Constant node output; an empty
// tensor gives an empty slice.
func (g *graph) constFloats(name string) ([]float32, bool) {
	t, ok := g.inits[name]
	if !ok {
		i, isNode := g.producer[name]
		if !isNode || g.node(i).GetOpType() != "Constant" {
			return nil, false
		}
		for _, a := range g.node(i).GetAttribute() {
			switch a.GetName() {
			case "value":
				t = a.GetT()
			case "value_floats":
				return a.GetFloats(), true
			}
		}
		if t == nil {
			return nil, false
		}
	}
	if onnxpb.TensorProto_DataType(t.GetDataType()) != onnxpb.TensorProto_FLOAT {
		return nil, false
	}
	if v := t.GetFloatData(); len(v) > 0 {
		return v, true
	}
	raw := t.GetRawData()
	v := make([]float32, len(raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v, true
}
