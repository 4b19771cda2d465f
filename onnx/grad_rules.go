package onnx

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cutmixcam/cutmix-cam/onnx/onnxpb"
)

// errInput reports a rule asked for the gradient of an input it does not
// differentiate (a weight that depends on the target, say).
func errInput(n *onnxpb.NodeProto, k int) error {
	return fmt.Errorf("gradient with respect to input %d (%q) of %s is not supported", k, n.GetInput()[k], n.GetOpType())
}

// only checks that no input other than those listed needs a gradient.
func only(n *onnxpb.NodeProto, need []bool, ok ...int) error {
	for k, nd := range need {
		if nd && !contains(ok, k) {
			return errInput(n, k)
		}
	}
	return nil
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// gradRules maps op types to backward rules.
var gradRules = map[string]gradRule{
	"Identity": passRule, "Dropout": passRule, "Cast": castRule,
	"Flatten": reshapeRule, "Reshape": reshapeRule, "Squeeze": reshapeRule, "Unsqueeze": reshapeRule,
	"Expand": expandRule, "Transpose": transposeRule,
	// sign(relu(x)) is the 0/1 mask of x > 0.
	"Relu": unary(func(b *gradBuilder, x, y, g string, _ *onnxpb.NodeProto) string {
		if b.opset < 9 {
			return b.mul(g, b.castMask(b.bin("Greater", x, b.scalar(x, 0)), x))
		}
		return b.mul(g, b.op("Sign", []string{y}))
	}),
	"Neg": unary(func(b *gradBuilder, x, y, g string, _ *onnxpb.NodeProto) string { return b.op("Neg", []string{g}) }),
	"Sigmoid": unary(func(b *gradBuilder, x, y, g string, _ *onnxpb.NodeProto) string {
		return b.mul(g, b.mul(y, b.bin("Sub", b.scalar(y, 1), y)))
	}),
	"Tanh": unary(func(b *gradBuilder, x, y, g string, _ *onnxpb.NodeProto) string {
		return b.mul(g, b.bin("Sub", b.scalar(y, 1), b.mul(y, y)))
	}),
	"Exp": unary(func(b *gradBuilder, x, y, g string, _ *onnxpb.NodeProto) string { return b.mul(g, y) }),
	"Log": unary(func(b *gradBuilder, x, y, g string, _ *onnxpb.NodeProto) string { return b.bin("Div", g, x) }),
	"Sqrt": unary(func(b *gradBuilder, x, y, g string, _ *onnxpb.NodeProto) string {
		return b.bin("Div", b.mulScalar(g, 0.5), y)
	}),
	"Reciprocal": unary(func(b *gradBuilder, x, y, g string, _ *onnxpb.NodeProto) string {
		return b.op("Neg", []string{b.mul(g, b.mul(y, y))})
	}),
	"Abs": unary(func(b *gradBuilder, x, y, g string, _ *onnxpb.NodeProto) string {
		return b.mul(g, b.op("Sign", []string{x}))
	}),
	"Softplus": unary(func(b *gradBuilder, x, y, g string, _ *onnxpb.NodeProto) string {
		return b.mul(g, b.op("Sigmoid", []string{x}))
	}),
	"Erf": unary(func(b *gradBuilder, x, y, g string, _ *onnxpb.NodeProto) string {
		e := b.op("Exp", []string{b.op("Neg", []string{b.mul(x, x)})})
		return b.mul(g, b.mulScalar(e, 2/math.Sqrt(math.Pi)))
	}),
	"LeakyRelu": unary(func(b *gradBuilder, x, y, g string, n *onnxpb.NodeProto) string {
		a := float64(attrFloat(n, "alpha", 0.01))
		m := b.castMask(b.bin("Greater", x, b.scalar(x, 0)), x)
		return b.mul(g, b.bin("Add", b.scalar(x, a), b.mulScalar(m, 1-a)))
	}),
	"Elu": unary(func(b *gradBuilder, x, y, g string, n *onnxpb.NodeProto) string {
		a := float64(attrFloat(n, "alpha", 1))
		m := b.castMask(b.bin("Greater", x, b.scalar(x, 0)), x)
		neg := b.mulScalar(b.op("Exp", []string{x}), a) // α·eˣ for x ≤ 0
		return b.mul(g, b.bin("Add", m, b.mul(b.bin("Sub", b.scalar(x, 1), m), neg)))
	}),
	"HardSigmoid": unary(func(b *gradBuilder, x, y, g string, n *onnxpb.NodeProto) string {
		a, c := float64(attrFloat(n, "alpha", 0.2)), float64(attrFloat(n, "beta", 0.5))
		z := b.bin("Add", b.mulScalar(x, a), b.scalar(x, c))
		m := b.castMask(b.bin("And", b.bin("Greater", z, b.scalar(x, 0)), b.bin("Less", z, b.scalar(x, 1))), x)
		return b.mul(g, b.mulScalar(m, a))
	}),
	"HardSwish": unary(func(b *gradBuilder, x, y, g string, n *onnxpb.NodeProto) string {
		// d/dx x·clip(x/6+1/2, 0, 1): 0 below −3, x/3+1/2 up to 3, 1 above.
		hi := b.castMask(b.bin("Greater", x, b.scalar(x, 3)), x)
		// PyTorch's convention at the kinks: −3 belongs to the middle
		// piece, and so does 3.
		mid := b.castMask(b.bin("And", b.op("Not", []string{b.bin("Less", x, b.scalar(x, -3))}), b.op("Not", []string{b.bin("Greater", x, b.scalar(x, 3))})), x)
		slope := b.bin("Add", b.mulScalar(x, 1.0/3), b.scalar(x, 0.5))
		return b.mul(g, b.bin("Add", hi, b.mul(mid, slope)))
	}),
	"Gelu": geluRule,
	"Clip": clipRule, "PRelu": preluRule, "Pow": powRule,
	"Add": addRule, "Sub": addRule, "Mul": mulRule, "Div": divRule, "Sum": sumRule,
	"Softmax": softmaxRule, "LogSoftmax": softmaxRule,
	"Gemm": gemmRule, "MatMul": matmulRule,
	"Conv": convRule, "BatchNormalization": batchNormRule,
	"MaxPool": maxPoolRule, "GlobalMaxPool": maxPoolRule,
	"AveragePool": avgPoolRule, "GlobalAveragePool": globalAvgRule,
	"ReduceSum": reduceRule, "ReduceMean": reduceRule, "ReduceMax": reduceRule,
	"Resize": resizeRule, "Upsample": resizeRule,
	"LRN": lrnRule, "LayerNormalization": normRule, "InstanceNormalization": normRule,
	"Concat": concatRule, "Split": splitRule, "Slice": sliceRule, "Gather": gatherRule, "Pad": padRule,
}

// unary builds a rule for an element-wise op of one input from f(x, y, gy).
func unary(f func(b *gradBuilder, x, y, g string, n *onnxpb.NodeProto) string) gradRule {
	return func(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
		if err := only(n, need, 0); err != nil {
			return nil, err
		}
		return []string{f(b, n.GetInput()[0], n.GetOutput()[0], gy[0], n)}, nil
	}
}

func passRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	return []string{gy[0]}, nil
}

func castRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	x := n.GetInput()[0]
	if b.dtype(x) == b.dtype(n.GetOutput()[0]) {
		return []string{gy[0]}, nil
	}
	return []string{b.op("Cast", []string{gy[0]}, aInt("to", int64(b.dtype(x))))}, nil
}

func reshapeRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	return []string{b.reshapeLike(gy[0], n.GetInput()[0])}, nil
}

func expandRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	return []string{b.unbroadcast(gy[0], b.shapeOf(n.GetOutput()[0]), n.GetInput()[0])}, nil
}

func transposeRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	r := b.rank(n.GetInput()[0])
	perm := attrInts(n, "perm")
	if perm == nil {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	inv := make([]int64, len(perm))
	for i, p := range perm {
		inv[p] = int64(i)
	}
	return []string{b.transpose(gy[0], inv)}, nil
}

// geluRule differentiates Gelu: exact, Φ(x) + x·φ(x); with
// approximate="tanh", y = x/2·(1 + tanh u), u = √(2/π)·(x + 0.044715x³), so
// y' = (1 + tanh u)/2 + x/2·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715x²).
func geluRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	x := n.GetInput()[0]
	switch a := attrString(n, "approximate", "none"); a {
	case "none":
		cdf := b.mulScalar(b.bin("Add", b.scalar(x, 1), b.op("Erf", []string{b.mulScalar(x, 1/math.Sqrt2)})), 0.5)
		pdf := b.mulScalar(b.op("Exp", []string{b.mulScalar(b.mul(x, x), -0.5)}), 1/math.Sqrt(2*math.Pi))
		return []string{b.mul(gy[0], b.bin("Add", cdf, b.mul(x, pdf)))}, nil
	case "tanh":
		const c = 0.044715
		k := math.Sqrt(2 / math.Pi)
		x2 := b.mul(x, x)
		u := b.mulScalar(b.bin("Add", x, b.mulScalar(b.mul(x2, x), c)), k)
		t := b.op("Tanh", []string{u})
		half := b.mulScalar(b.bin("Add", b.scalar(x, 1), t), 0.5)
		du := b.bin("Add", b.scalar(x, k), b.mulScalar(x2, 3*c*k))
		sech2 := b.bin("Sub", b.scalar(x, 1), b.mul(t, t))
		return []string{b.mul(gy[0], b.bin("Add", half, b.mul(b.mulScalar(x, 0.5), b.mul(sech2, du))))}, nil
	default:
		return nil, fmt.Errorf("Gelu approximate=%q is not supported", a)
	}
}

func clipRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	// lo < x < hi exactly where lo < y < hi, and comparing the output
	// lets ONNX Runtime keep a Conv+Clip pair fused (x is never
	// materialised).
	x := n.GetOutput()[0]
	var conds []string
	if b.opset < 11 {
		if hasAttr(n, "min") {
			conds = append(conds, b.bin("Greater", x, b.scalar(x, float64(attrFloat(n, "min", 0)))))
		}
		if hasAttr(n, "max") {
			conds = append(conds, b.bin("Less", x, b.scalar(x, float64(attrFloat(n, "max", 0)))))
		}
	} else {
		in := n.GetInput()
		if len(in) > 1 && in[1] != "" {
			conds = append(conds, b.bin("Greater", x, in[1]))
		}
		if len(in) > 2 && in[2] != "" {
			conds = append(conds, b.bin("Less", x, in[2]))
		}
	}
	switch len(conds) {
	case 0:
		return []string{gy[0]}, nil
	case 2:
		conds = []string{b.bin("And", conds[0], conds[1])}
	}
	if b.opset >= 9 {
		return []string{b.op("Where", []string{conds[0], gy[0], b.scalar(x, 0)})}, nil
	}
	return []string{b.mul(gy[0], b.castMask(conds[0], x))}, nil
}

func preluRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	x, s := n.GetInput()[0], n.GetInput()[1]
	m := b.castMask(b.bin("Greater", x, b.scalar(x, 0)), x)
	// s + (1−s)·m
	d := b.bin("Add", s, b.mul(b.bin("Sub", b.scalar(x, 1), s), m))
	return []string{b.mul(gy[0], d)}, nil
}

func powRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	x, e := n.GetInput()[0], n.GetInput()[1]
	ef := b.op("Cast", []string{e}, aInt("to", int64(b.dtype(x))))
	d := b.mul(ef, b.bin("Pow", x, b.bin("Sub", ef, b.scalar(x, 1))))
	return []string{b.unbroadcast(b.mul(gy[0], d), b.shapeOf(n.GetOutput()[0]), x)}, nil
}

func addRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	ys := b.shapeOf(n.GetOutput()[0])
	out := make([]string, 2)
	for k := 0; k < 2; k++ {
		if !need[k] {
			continue
		}
		g := gy[0]
		if k == 1 && n.GetOpType() == "Sub" {
			g = b.op("Neg", []string{g})
		}
		out[k] = b.unbroadcast(g, ys, n.GetInput()[k])
	}
	return out, nil
}

func sumRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	ys := b.shapeOf(n.GetOutput()[0])
	out := make([]string, len(n.GetInput()))
	for k, t := range n.GetInput() {
		if need[k] {
			out[k] = b.unbroadcast(gy[0], ys, t)
		}
	}
	return out, nil
}

func mulRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	ys := b.shapeOf(n.GetOutput()[0])
	in := n.GetInput()
	out := make([]string, 2)
	for k := 0; k < 2; k++ {
		if need[k] {
			out[k] = b.unbroadcast(b.mul(gy[0], in[1-k]), ys, in[k])
		}
	}
	return out, nil
}

func divRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	ys := b.shapeOf(n.GetOutput()[0])
	a, d, y := n.GetInput()[0], n.GetInput()[1], n.GetOutput()[0]
	out := make([]string, 2)
	q := b.bin("Div", gy[0], d)
	if need[0] {
		out[0] = b.unbroadcast(q, ys, a)
	}
	if need[1] {
		out[1] = b.unbroadcast(b.op("Neg", []string{b.mul(q, y)}), ys, d) // −g·a/d² = −(g/d)·y
	}
	return out, nil
}

// softmaxAxes returns the axes a Softmax or LogSoftmax normalises over: one
// axis from opset 13 on, every axis from axis on before (the 2-D coercion).
func (b *gradBuilder) softmaxAxes(n *onnxpb.NodeProto) []int64 {
	r := b.rank(n.GetInput()[0])
	if b.opset >= 13 {
		return normAxes([]int64{attrInt(n, "axis", -1)}, r)
	}
	a := normAxes([]int64{attrInt(n, "axis", 1)}, r)[0]
	var axes []int64
	for i := a; i < int64(r); i++ {
		axes = append(axes, i)
	}
	return axes
}

func softmaxRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	y, g := n.GetOutput()[0], gy[0]
	axes := b.softmaxAxes(n)
	if n.GetOpType() == "LogSoftmax" {
		// g − softmax·Σg
		return []string{b.bin("Sub", g, b.mul(b.op("Exp", []string{y}), b.reduceSum(g, axes, true)))}, nil
	}
	// y·(g − Σ g·y)
	return []string{b.mul(y, b.bin("Sub", g, b.reduceSum(b.mul(g, y), axes, true)))}, nil
}

func gemmRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	in := n.GetInput()
	alpha, beta := float64(attrFloat(n, "alpha", 1)), float64(attrFloat(n, "beta", 1))
	ta, tb := attrInt(n, "transA", 0) == 1, attrInt(n, "transB", 0) == 1
	g := gy[0]
	out := make([]string, len(in))
	t2 := func(x string) string { return b.transpose(x, []int64{1, 0}) }
	if need[0] {
		// ∂/∂op(A) = α·g·op(B)ᵀ
		bt := in[1]
		if !tb {
			bt = t2(in[1])
		}
		ga := b.bin("MatMul", g, bt)
		if ta {
			ga = t2(ga)
		}
		out[0] = b.mulScalar(ga, alpha)
	}
	if need[1] {
		// ∂/∂op(B) = α·op(A)ᵀ·g
		at := in[0]
		if !ta {
			at = t2(in[0])
		}
		gb := b.bin("MatMul", at, g)
		if tb {
			gb = t2(gb)
		}
		out[1] = b.mulScalar(gb, alpha)
	}
	if len(in) > 2 && need[2] {
		out[2] = b.unbroadcast(b.mulScalar(g, beta), b.shapeOf(n.GetOutput()[0]), in[2])
	}
	return out, nil
}

// matmulRule differentiates MatMul with numpy semantics: a 1-D A acts as
// [1,K] and a 1-D B as [K,1], the inserted axis dropped from Y, so ∂Y gets
// it back before the two products and the gradients of 1-D operands lose it
// again.
func matmulRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	a, c := n.GetInput()[0], n.GetInput()[1]
	as, cs, ys := b.shapeOf(a), b.shapeOf(c), b.shapeOf(n.GetOutput()[0])
	t := func(x string, r int) string {
		perm := make([]int64, r)
		for i := range perm {
			perm[i] = int64(i)
		}
		perm[r-1], perm[r-2] = perm[r-2], perm[r-1]
		return b.transpose(x, perm)
	}
	g, gs := gy[0], slices.Clone(ys)
	var ins []int64
	switch {
	case len(as) == 1 && len(cs) == 1:
		ins = []int64{0, 1}
	case len(as) == 1:
		ins = []int64{int64(len(ys) - 1)}
	case len(cs) == 1:
		ins = []int64{int64(len(ys))}
	}
	if ins != nil {
		g = b.unsqueeze(g, ins...)
		for _, p := range ins {
			gs = slices.Insert(gs, int(p), 1)
		}
	}
	r := len(gs)
	out := make([]string, 2)
	if need[0] {
		var ct string
		if len(cs) == 1 {
			ct = b.bin("Reshape", c, b.i64(nil, 1, cs[0]))
		} else {
			ct = t(c, len(cs))
		}
		k := as[len(as)-1]
		out[0] = b.unbroadcast(b.bin("MatMul", g, ct), append(slices.Clone(gs[:r-1]), k), a)
	}
	if need[1] {
		var at string
		if len(as) == 1 {
			at = b.bin("Reshape", a, b.i64(nil, as[0], 1))
		} else {
			at = t(a, len(as))
		}
		k := cs[0]
		if len(cs) > 1 {
			k = cs[len(cs)-2]
		}
		gc := b.bin("MatMul", at, g)
		gcs := append(slices.Clone(gs[:r-2]), k, gs[r-1])
		if len(cs) == 1 {
			// [..., K, 1] → [..., K]
			gc = b.bin("Reshape", gc, b.i64(nil, append(make([]int64, r-2), k)...))
			gcs = gcs[:r-1]
		}
		out[1] = b.unbroadcast(gc, gcs, c)
	}
	return out, nil
}

// window holds the geometry of a convolution or pooling node.
type window struct {
	kernel, strides, dilations []int64
	begin, end                 []int64 // pads per spatial axis
	in, out                    []int64 // spatial sizes
}

// windowOf reads the kernel, strides, dilations and pads of n (auto_pad
// resolved against the probed input size in and output size out).
func windowOf(n *onnxpb.NodeProto, kernel, in, out []int64) (window, error) {
	sp := len(in)
	w := window{kernel: kernel, in: in, out: out}
	w.strides = attrInts(n, "strides")
	if w.strides == nil {
		w.strides = ones(sp)
	}
	w.dilations = attrInts(n, "dilations")
	if w.dilations == nil {
		w.dilations = ones(sp)
	}
	w.begin, w.end = make([]int64, sp), make([]int64, sp)
	if len(kernel) != sp || len(w.strides) != sp || len(w.dilations) != sp {
		return w, fmt.Errorf("kernel %v, strides %v or dilations %v do not match %d spatial axes", kernel, w.strides, w.dilations, sp)
	}
	switch ap := attrString(n, "auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
		if p := attrInts(n, "pads"); p != nil {
			if len(p) != 2*sp {
				return w, fmt.Errorf("pads %v do not match %d spatial axes", p, sp)
			}
			copy(w.begin, p[:sp])
			copy(w.end, p[sp:])
		}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		for i := 0; i < sp; i++ {
			total := max((out[i]-1)*w.strides[i]+(kernel[i]-1)*w.dilations[i]+1-in[i], 0)
			small := total / 2
			if ap == "SAME_UPPER" {
				w.begin[i], w.end[i] = small, total-small
			} else {
				w.begin[i], w.end[i] = total-small, small
			}
		}
	default:
		return w, fmt.Errorf("auto_pad %q is not supported", ap)
	}
	return w, nil
}

func ones(n int) []int64 {
	v := make([]int64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// transposed applies to g the adjoint of a convolution with weight wt
// (M × Cin/group × kernel) and the window's geometry, cropping or padding
// the result to the input size. For stride 1, and for depthwise weights,
// from opset 10 on it is a plain Conv, which ONNX Runtime runs much faster
// than ConvTranspose (depthwise above all): g is spread out with stride−1
// zeros between values, then correlated with the kernel flipped and its
// in/out channels swapped within each group, padded by (k−1)·d − pad_begin
// in front. Otherwise, or when a pad exceeds the kernel's reach, it is a
// ConvTranspose.
func (b *gradBuilder) transposed(g, wt string, group int64, w window) string {
	strided := false
	for _, s := range w.strides {
		strided = strided || s != 1
	}
	ws := b.shapeOf(wt)
	depthwise := len(ws) > 1 && ws[1] == 1 && ws[0] == group
	// Spreading a strided gradient makes the Conv do stride² times the
	// work: worth it only where ConvTranspose is slowest (depthwise).
	if !strided || depthwise {
		if out, ok := b.adjointConv(g, wt, group, w); ok {
			return out
		}
	}
	return b.convTranspose(g, wt, group, w)
}

func (b *gradBuilder) adjointConv(g, wt string, group int64, w window) (string, bool) {
	sp := len(w.in)
	ws := b.shapeOf(wt)
	if b.opset < 10 || len(ws) != sp+2 {
		return "", false
	}
	M, cg := ws[0], ws[1]
	pre := make([]int64, sp)
	post := make([]int64, sp)
	have := make([]int64, sp)
	for i := 0; i < sp; i++ {
		reach := (w.kernel[i] - 1) * w.dilations[i]
		pre[i] = reach - w.begin[i]
		if pre[i] < 0 {
			return "", false
		}
		spread := w.out[i] * w.strides[i]
		q := w.in[i] - spread - pre[i] + reach
		post[i] = max(q, 0)
		have[i] = w.in[i] + post[i] - q
	}
	// Spread g: [N,M,o1,…] → [N,M,o1,1,o2,1,…] → pad the 1s to s → merge.
	u := g
	strided := false
	for _, s := range w.strides {
		strided = strided || s != 1
	}
	if strided {
		// Nearest upsampling by the strides, then a 0/1 mask that keeps
		// the first of each block: far faster in ONNX Runtime than padding
		// a rank-2k tensor.
		scales := []float64{1, 1}
		size := int64(1)
		for i := 0; i < sp; i++ {
			scales = append(scales, float64(w.strides[i]))
			size *= w.out[i] * w.strides[i]
		}
		sc := b.fconst(onnxpb.TensorProto_FLOAT, []int64{int64(2 + sp)}, scales)
		if b.opset >= 11 {
			roi := b.fconst(onnxpb.TensorProto_FLOAT, []int64{0}, nil) // required before opset 13
			u = b.op("Resize", []string{g, roi, sc}, aString("mode", "nearest"),
				aString("coordinate_transformation_mode", "asymmetric"), aString("nearest_mode", "floor"))
		} else {
			u = b.op("Resize", []string{g, sc}, aString("mode", "nearest"))
		}
		keep := make([]float64, size)
		dims := []int64{1, 1}
		for i := 0; i < sp; i++ {
			dims = append(dims, w.out[i]*w.strides[i])
		}
		for p := range keep {
			rest, on := int64(p), true
			for i := sp - 1; i >= 0; i-- {
				on = on && (rest%dims[2+i])%w.strides[i] == 0
				rest /= dims[2+i]
			}
			if on {
				keep[p] = 1
			}
		}
		u = b.mul(u, b.fconst(b.dtype(g), dims, keep))
	}
	// Kernel: [M, Cin/g, k…] → [g, M/g, Cin/g, k…] → swap → [Cin, M/g, k…], flipped.
	kt := wt
	if M/group > 1 || cg > 1 {
		five := append([]int64{group, M / group, cg}, w.kernel...)
		perm := []int64{0, 2, 1}
		for i := 0; i < sp; i++ {
			perm = append(perm, int64(3+i))
		}
		back := append([]int64{cg * group, M / group}, w.kernel...)
		kt = b.bin("Reshape", b.transpose(b.bin("Reshape", wt, b.i64(nil, five...)), perm), b.i64(nil, back...))
	}
	starts, ends, axes, steps := make([]int64, sp), make([]int64, sp), make([]int64, sp), make([]int64, sp)
	for i := 0; i < sp; i++ {
		starts[i], ends[i], axes[i], steps[i] = -1, math.MinInt64, int64(2+i), -1
	}
	kt = b.op("Slice", []string{kt, b.i64(nil, starts...), b.i64(nil, ends...), b.i64(nil, axes...), b.i64(nil, steps...)})
	pads := append(append([]int64{}, pre...), post...)
	c := b.op("Conv", []string{u, kt}, aInt("group", group), aInts("dilations", w.dilations...),
		aInts("pads", pads...), aInts("kernel_shape", w.kernel...))
	return b.fitSpatial(c, have, w.in), true
}

// convTranspose is transposed as a ConvTranspose.
func (b *gradBuilder) convTranspose(g, wt string, group int64, w window) string {
	sp := len(w.in)
	pads := make([]int64, 2*sp)
	copy(pads, w.begin)
	have := make([]int64, sp)
	for i := range have {
		have[i] = (w.out[i]-1)*w.strides[i] + (w.kernel[i]-1)*w.dilations[i] + 1 - w.begin[i]
	}
	ct := b.op("ConvTranspose", []string{g, wt}, aInt("group", group), aInts("strides", w.strides...),
		aInts("dilations", w.dilations...), aInts("pads", pads...), aInts("kernel_shape", w.kernel...))
	return b.fitSpatial(ct, have, w.in)
}

func convRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	x, wt, y := n.GetInput()[0], n.GetInput()[1], n.GetOutput()[0]
	xs, ws, ys := b.shapeOf(x), b.shapeOf(wt), b.shapeOf(y)
	if len(xs) < 3 || len(ws) != len(xs) {
		return nil, fmt.Errorf("input %v and weight %v shapes", xs, ws)
	}
	kernel := attrInts(n, "kernel_shape")
	if kernel == nil {
		kernel = ws[2:]
	}
	w, err := windowOf(n, kernel, xs[2:], ys[2:])
	if err != nil {
		return nil, err
	}
	return []string{b.transposed(gy[0], wt, attrInt(n, "group", 1), w)}, nil
}

func batchNormRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	if attrInt(n, "training_mode", 0) != 0 {
		return nil, errors.New("training_mode BatchNormalization is not supported")
	}
	in := n.GetInput()
	x := in[0]
	r := b.rank(x)
	eps := float64(attrFloat(n, "epsilon", 1e-5))
	k := b.bin("Div", in[1], b.op("Sqrt", []string{b.bin("Add", in[4], b.scalar(x, eps))}))
	if r > 2 {
		shape := append([]int64{-1}, ones(r-2)...)
		k = b.bin("Reshape", k, b.i64(nil, shape...))
	}
	return []string{b.mul(gy[0], k)}, nil
}

func globalAvgRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	x := n.GetInput()[0]
	xs := b.shapeOf(x)
	count := int64(1)
	for _, d := range xs[2:] {
		count *= d
	}
	return []string{b.expandLike(b.mulScalar(gy[0], 1/float64(count)), x)}, nil
}

// maxPoolRule routes each output's gradient to the input element its
// window took the maximum from (the first one on ties, as ONNX Runtime's
// Indices output reports). A second MaxPool node computes the indices; for
// each kernel offset a mask marks the outputs whose arg-max sits there, and
// a depthwise ConvTranspose with one-hot kernels places and sums the masked
// gradients, so overlapping windows add up.
func maxPoolRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	x, y := n.GetInput()[0], n.GetOutput()[0]
	xs, ys := b.shapeOf(x), b.shapeOf(y)
	if len(xs) != 4 {
		return nil, fmt.Errorf("%s on a rank-%d tensor is not supported (2-D pooling only)", n.GetOpType(), len(xs))
	}
	C, H, W := xs[1], xs[2], xs[3]
	global := n.GetOpType() == "GlobalMaxPool"
	var attrs []*onnxpb.AttributeProto
	var w window
	var err error
	if global {
		attrs = []*onnxpb.AttributeProto{aInts("kernel_shape", H, W)}
		w = window{kernel: []int64{H, W}, strides: []int64{1, 1}, dilations: []int64{1, 1},
			begin: []int64{0, 0}, end: []int64{0, 0}, in: xs[2:], out: []int64{1, 1}}
	} else {
		for _, a := range n.GetAttribute() {
			if a.GetName() != "storage_order" {
				attrs = append(attrs, a)
			}
		}
		w, err = windowOf(n, attrInts(n, "kernel_shape"), xs[2:], ys[2:])
		if err != nil {
			return nil, err
		}
	}
	idx := b.node("MaxPool", []string{x}, 2, attrs...)[1]
	if b.emit >= 16 {
		// The indices count positions in the flattened N×C×H×W input:
		// scatter-add the gradients there.
		flat := b.i64(nil, 1, -1)
		zeros := b.bin("Reshape", b.zerosLike(x), flat)
		sc := b.op("ScatterElements", []string{zeros, b.bin("Reshape", idx, flat), b.bin("Reshape", gy[0], flat)},
			aInt("axis", 1), aString("reduction", "add"))
		return []string{b.reshapeLike(sc, x)}, nil
	}
	hw := b.i64([]int64{}, H*W)
	local := b.bin("Sub", idx, b.mul(b.bin("Div", idx, hw), hw)) // index within the channel
	g := gy[0]
	if global {
		ar := make([]int64, H*W)
		for i := range ar {
			ar[i] = int64(i)
		}
		m := b.castMask(b.bin("Equal", local, b.i64([]int64{1, 1, H, W}, ar...)), x)
		return []string{b.mul(m, g)}, nil
	}
	kh, kw := w.kernel[0], w.kernel[1]
	KK := kh * kw
	OH, OW := ys[2], ys[3]
	pos := make([]int64, 0, KK*OH*OW)
	for i := int64(0); i < kh; i++ {
		for j := int64(0); j < kw; j++ {
			for oy := int64(0); oy < OH; oy++ {
				for ox := int64(0); ox < OW; ox++ {
					iy := oy*w.strides[0] - w.begin[0] + i*w.dilations[0]
					ix := ox*w.strides[1] - w.begin[1] + j*w.dilations[1]
					p := int64(-1)
					if iy >= 0 && iy < H && ix >= 0 && ix < W {
						p = iy*W + ix
					}
					pos = append(pos, p)
				}
			}
		}
	}
	eq := b.bin("Equal", b.unsqueeze(local, 2), b.i64([]int64{1, 1, KK, OH, OW}, pos...))
	var gm string
	if b.opset >= 9 {
		gm = b.op("Where", []string{eq, b.unsqueeze(g, 2), b.scalar(x, 0)})
	} else {
		gm = b.mul(b.castMask(eq, x), b.unsqueeze(g, 2))
	}
	gr := b.bin("Reshape", gm, b.i64(nil, 0, C*KK, OH, OW))
	onehot := make([]float64, C*KK*KK)
	for c := int64(0); c < C; c++ {
		for k := int64(0); k < KK; k++ {
			onehot[(c*KK+k)*KK+k] = 1
		}
	}
	wt := b.fconst(b.dtype(x), []int64{C * KK, 1, kh, kw}, onehot)
	return []string{b.transposed(gr, wt, C, w)}, nil
}

func avgPoolRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	x, y := n.GetInput()[0], n.GetOutput()[0]
	xs, ys := b.shapeOf(x), b.shapeOf(y)
	if len(xs) != 4 {
		return nil, fmt.Errorf("AveragePool on a rank-%d tensor is not supported (2-D pooling only)", len(xs))
	}
	w, err := windowOf(n, attrInts(n, "kernel_shape"), xs[2:], ys[2:])
	if err != nil {
		return nil, err
	}
	include := attrInt(n, "count_include_pad", 0) == 1
	// Divisor per output position, as ONNX Runtime counts it: the taps of
	// the dilated window up to the end of the padded input, or those inside
	// the input itself.
	counts := make([][]int64, 2)
	for a := 0; a < 2; a++ {
		counts[a] = make([]int64, ys[2+a])
		d := w.dilations[a]
		for o := range counts[a] {
			start := int64(o)*w.strides[a] - w.begin[a]
			end := min(start+w.kernel[a]*d, xs[2+a]+w.end[a])
			if include {
				counts[a][o] = 1 + (end-start-1)/d
				continue
			}
			for p := start; p < end; p += d {
				if p >= 0 && p < xs[2+a] {
					counts[a][o]++
				}
			}
		}
	}
	OH, OW := ys[2], ys[3]
	inv := make([]float64, OH*OW)
	uniform := true
	for oy := int64(0); oy < OH; oy++ {
		for ox := int64(0); ox < OW; ox++ {
			if c := counts[0][oy] * counts[1][ox]; c > 0 { // an empty window averages to 0
				inv[oy*OW+ox] = 1 / float64(c)
			}
			uniform = uniform && inv[oy*OW+ox] == inv[0]
		}
	}
	g := gy[0]
	if uniform {
		g = b.mulScalar(g, inv[0])
	} else {
		g = b.mul(g, b.fconst(b.dtype(x), []int64{1, 1, OH, OW}, inv))
	}
	C := xs[1]
	k := make([]float64, C*w.kernel[0]*w.kernel[1])
	for i := range k {
		k[i] = 1
	}
	wt := b.fconst(b.dtype(x), []int64{C, 1, w.kernel[0], w.kernel[1]}, k)
	return []string{b.transposed(g, wt, C, w)}, nil
}

func reduceRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	x, y := n.GetInput()[0], n.GetOutput()[0]
	xs := b.shapeOf(x)
	r := len(xs)
	axes := attrInts(n, "axes")
	if len(n.GetInput()) > 1 && n.GetInput()[1] != "" {
		v, ok := b.constVals(n.GetInput()[1])
		if !ok {
			return nil, errors.New("axes input is not constant")
		}
		axes = v
	}
	if len(axes) == 0 {
		if attrInt(n, "noop_with_empty_axes", 0) == 1 {
			return []string{gy[0]}, nil
		}
		for i := 0; i < r; i++ {
			axes = append(axes, int64(i))
		}
	}
	axes = normAxes(axes, r)
	g, yk := gy[0], y
	if attrInt(n, "keepdims", 1) == 0 {
		g, yk = b.unsqueeze(g, axes...), b.unsqueeze(y, axes...)
	}
	switch n.GetOpType() {
	case "ReduceSum":
		return []string{b.expandLike(g, x)}, nil
	case "ReduceMean":
		count := int64(1)
		for _, a := range axes {
			if a == 0 && b.dynamic {
				return nil, errors.New("ReduceMean over the batch axis is not supported")
			}
			count *= xs[a]
		}
		return []string{b.expandLike(b.mulScalar(g, 1/float64(count)), x)}, nil
	default: // ReduceMax: split evenly among ties
		m := b.castMask(b.bin("Equal", x, yk), x)
		cnt := b.reduceSum(m, axes, true)
		return []string{b.mul(b.bin("Div", m, cnt), g)}, nil
	}
}

// axisSizes reads the sizes of axis for the tensors ts.
func (b *gradBuilder) batchAxis(axis int64) error {
	if axis == 0 && b.dynamic {
		return errors.New("along the batch axis is not supported")
	}
	return nil
}

func concatRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	r := b.rank(n.GetOutput()[0])
	axis := normAxes([]int64{attrInt(n, "axis", 0)}, r)[0]
	if err := b.batchAxis(axis); err != nil {
		return nil, err
	}
	sizes := make([]int64, len(n.GetInput()))
	for k, t := range n.GetInput() {
		sizes[k] = b.shapeOf(t)[axis]
	}
	return b.split(gy[0], axis, sizes), nil
}

func splitRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	r := b.rank(n.GetInput()[0])
	axis := normAxes([]int64{attrInt(n, "axis", 0)}, r)[0]
	if err := b.batchAxis(axis); err != nil {
		return nil, err
	}
	parts := make([]string, len(n.GetOutput()))
	for k, o := range n.GetOutput() {
		parts[k] = gy[k]
		if parts[k] == "" {
			parts[k] = b.zerosLike(o)
		}
	}
	return []string{b.op("Concat", parts, aInt("axis", axis))}, nil
}

// sliceRule scatters the gradient back into the input's shape: zero
// padding along the axes sliced with step 1, a one-hot product along the
// others. Starts and ends are clamped as the spec says for the sign of the
// step.
func sliceRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	x := n.GetInput()[0]
	xs := b.shapeOf(x)
	r := len(xs)
	var starts, ends, axes, steps []int64
	if b.opset < 10 {
		starts, ends, axes = attrInts(n, "starts"), attrInts(n, "ends"), attrInts(n, "axes")
	} else {
		in := n.GetInput()
		get := func(k int) ([]int64, error) {
			if len(in) <= k || in[k] == "" {
				return nil, nil
			}
			v, ok := b.constVals(in[k])
			if !ok {
				return nil, fmt.Errorf("input %d of Slice is not constant", k)
			}
			return v, nil
		}
		var err error
		for k, dst := range []*[]int64{&starts, &ends, &axes, &steps} {
			if *dst, err = get(k + 1); err != nil {
				return nil, err
			}
		}
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	if len(starts) != len(axes) || len(ends) != len(axes) || (steps != nil && len(steps) != len(axes)) {
		return nil, fmt.Errorf("Slice starts %v, ends %v, axes %v and steps %v differ in length", starts, ends, axes, steps)
	}
	g := gy[0]
	pads := make([]int64, 2*r)
	padded := false
	for i, a := range axes {
		if a < 0 {
			a += int64(r)
		}
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return nil, errors.New("Slice with step 0")
		}
		d := xs[a]
		s, e := sliceBounds(starts[i], ends[i], step, d)
		if a == 0 && b.dynamic {
			if step != 1 || s != 0 || e != d {
				return nil, errors.New("Slice along the batch axis is not supported")
			}
			continue
		}
		if step == 1 {
			pads[a], pads[int(a)+r] = s, d-max(e, s)
			padded = padded || s != 0 || e < d
			continue
		}
		var src []int64
		for k := s; (step > 0 && k < e) || (step < 0 && k > e); k += step {
			src = append(src, k)
		}
		g = b.scatterAxis(g, x, a, r, src, d)
	}
	if padded {
		g = b.pad(g, pads)
	}
	return []string{g}, nil
}

// sliceBounds resolves a Slice start and end on an axis of length d: a
// negative value counts from the end, then both are clamped to [0, d] for
// a positive step, start to [0, d−1] and end to [−1, d−1] for a negative
// one.
func sliceBounds(start, end, step, d int64) (int64, int64) {
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	if step > 0 {
		return min(max(start, 0), d), min(max(end, 0), d)
	}
	return min(max(start, 0), d-1), min(max(end, -1), d-1)
}

// gatherRule scatters the gradient back along the axis through the one-hot
// matrix of the constant indices, summing repeated ones.
func gatherRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	x, ix := n.GetInput()[0], n.GetInput()[1]
	if !b.g.isConst(ix) {
		return nil, errors.New("Gather with indices computed from the input is not supported")
	}
	idx, ok := b.constVals(ix)
	if !ok {
		return nil, errors.New("Gather indices are not readable")
	}
	xs := b.shapeOf(x)
	r := len(xs)
	axis := normAxes([]int64{attrInt(n, "axis", 0)}, r)[0]
	if axis == 0 {
		return nil, errors.New("Gather along axis 0 is not supported")
	}
	D, m := xs[axis], int64(len(idx))
	// g → x[:axis] + [m] + x[axis+1:] (the index axes flattened).
	shape := make([]int64, 0, r)
	for i := int64(0); i < axis; i++ {
		shape = append(shape, 0)
	}
	shape = append(shape, m)
	shape = append(shape, xs[axis+1:]...)
	g := b.bin("Reshape", gy[0], b.i64(nil, shape...))
	src := make([]int64, m)
	for k, v := range idx {
		if v < 0 {
			v += D
		}
		if v < 0 || v >= D {
			return nil, fmt.Errorf("Gather index %d out of range [0,%d)", idx[k], D)
		}
		src[k] = v
	}
	return []string{b.scatterAxis(g, x, axis, r, src, D)}, nil
}

// padRule differentiates Pad. ONNX Runtime first crops the input by the
// negative pads, then pads what is left by the positive ones in the mode:
// for "constant" the gradient is cropped by the positive pads and
// zero-padded by the negative ones; for "reflect", "edge" and "wrap" each
// output position reads one input position per axis, and a one-hot product
// per padded axis sums the gradient back there.
func padRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	mode := attrString(n, "mode", "constant")
	switch mode {
	case "constant", "reflect", "edge", "wrap":
	default:
		return nil, fmt.Errorf("Pad mode %q is not supported", mode)
	}
	x := n.GetInput()[0]
	xs := b.shapeOf(x)
	r := len(xs)
	pads := attrInts(n, "pads")
	if b.opset >= 11 {
		v, ok := b.constVals(n.GetInput()[1])
		if !ok {
			return nil, errors.New("pads input is not constant")
		}
		pads = v
	}
	var axes []int64
	if in := n.GetInput(); len(in) > 3 && in[3] != "" {
		v, ok := b.constVals(in[3])
		if !ok {
			return nil, errors.New("axes input is not constant")
		}
		for _, a := range v {
			if a < 0 {
				a += int64(r)
			}
			axes = append(axes, a)
		}
	} else {
		for i := 0; i < r; i++ {
			axes = append(axes, int64(i))
		}
	}
	na := len(axes)
	if len(pads) != 2*na {
		return nil, fmt.Errorf("pads %v do not match %d axes", pads, na)
	}
	g := gy[0]
	var starts, ends, sax []int64
	back := make([]int64, 2*r)
	cropped := false
	for i, a := range axes {
		pb, pe := pads[i], pads[i+na]
		if pb == 0 && pe == 0 {
			continue
		}
		if err := b.batchAxis(a); err != nil {
			return nil, err
		}
		cb, ce := max(-pb, 0), max(-pe, 0) // cropped
		pb, pe = max(pb, 0), max(pe, 0)    // padded
		d := xs[a] - cb - ce               // what is left to pad
		if d <= 0 {
			return nil, fmt.Errorf("Pad crops all of axis %d", a)
		}
		if mode == "constant" {
			if pb > 0 || pe > 0 {
				starts, ends, sax = append(starts, pb), append(ends, pb+d), append(sax, a)
			}
			back[a], back[int(a)+r] = cb, ce
			cropped = cropped || cb > 0 || ce > 0
			continue
		}
		if mode == "reflect" && (pb >= d || pe >= d) {
			return nil, fmt.Errorf("Pad reflect by %d, %d on an axis of length %d is not supported", pb, pe, d)
		}
		src := make([]int64, pb+d+pe)
		for j := range src {
			k := int64(j) - pb
			switch mode {
			case "edge":
				k = min(max(k, 0), d-1)
			case "reflect":
				if k < 0 {
					k = -k
				} else if k >= d {
					k = 2*(d-1) - k
				}
			default: // wrap
				k = (k%d + d) % d
			}
			src[j] = cb + k
		}
		g = b.scatterAxis(g, x, a, r, src, xs[a])
	}
	if len(sax) > 0 {
		g = b.slice(g, starts, ends, sax)
	}
	if cropped {
		g = b.pad(g, back)
	}
	return []string{g}, nil
}

// winSum sums t [N,C,...] over a channel window from c−before to c+after
// (clipped to the channels), by a Conv over the channel axis.
func (b *gradBuilder) winSum(t string, C, before, after int64) string {
	r := b.bin("Reshape", t, b.i64(nil, 0, 1, C, -1))
	size := before + after + 1
	k := make([]float64, size)
	for i := range k {
		k[i] = 1
	}
	wt := b.fconst(b.dtype(t), []int64{1, 1, size, 1}, k)
	s := b.op("Conv", []string{r, wt}, aInts("kernel_shape", size, 1), aInts("pads", before, 0, after, 0))
	return s
}

// lrnRule differentiates y = x·s^−β, s = bias + α/size·Σ_window x²:
// ∂x_i = g_i·s_i^−β − 2αβ/size·x_i·Σ_{j: i ∈ window(j)} g_j·x_j·s_j^−β−1.
func lrnRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	x := n.GetInput()[0]
	xs := b.shapeOf(x)
	if len(xs) < 3 {
		return nil, fmt.Errorf("LRN on a rank-%d tensor", len(xs))
	}
	size := attrInt(n, "size", 0)
	if size <= 0 {
		return nil, errors.New("LRN without a size")
	}
	alpha, beta, bias := float64(attrFloat(n, "alpha", 1e-4)), float64(attrFloat(n, "beta", 0.75)), float64(attrFloat(n, "bias", 1))
	lo, hi := (size-1)/2, size/2 // floor and ceil of (size−1)/2
	C, g := xs[1], gy[0]
	S := b.reshapeLike(b.winSum(b.mul(x, x), C, lo, hi), x)
	s := b.bin("Add", b.scalar(x, bias), b.mulScalar(S, alpha/float64(size)))
	p := b.bin("Pow", s, b.scalar(x, -beta))
	q := b.bin("Div", b.mul(b.mul(g, x), p), s)
	A := b.reshapeLike(b.winSum(q, C, hi, lo), x)
	return []string{b.bin("Sub", b.mul(g, p), b.mulScalar(b.mul(x, A), 2*alpha*beta/float64(size)))}, nil
}

// reduceMean averages t over axes, keeping them.
func (b *gradBuilder) reduceMean(t string, axes []int64) string {
	if b.opset >= 18 {
		return b.op("ReduceMean", []string{t, b.i64(nil, axes...)}, aInt("keepdims", 1))
	}
	return b.op("ReduceMean", []string{t}, aInts("axes", axes...), aInt("keepdims", 1))
}

// normRule differentiates LayerNormalization (over the axes from axis on)
// and InstanceNormalization (over the spatial axes, scale per channel):
// with x̂ = (x−μ)·r, r = 1/√(σ²+ε) and ĝ = g·scale,
// ∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), recomputing μ and σ² from x.
func normRule(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error) {
	if err := only(n, need, 0); err != nil {
		return nil, err
	}
	for k := 1; k < len(n.GetOutput()); k++ {
		if gy[k] != "" {
			return nil, errors.New("gradients of the mean and inverse deviation outputs are not supported")
		}
	}
	x, scale := n.GetInput()[0], n.GetInput()[1]
	r := b.rank(x)
	var axes []int64
	first := int64(2)
	if n.GetOpType() == "LayerNormalization" {
		first = normAxes([]int64{attrInt(n, "axis", -1)}, r)[0]
	} else {
		scale = b.bin("Reshape", scale, b.i64(nil, append([]int64{-1}, ones(r-2)...)...))
	}
	for a := first; a < int64(r); a++ {
		axes = append(axes, a)
	}
	if len(axes) > 0 && axes[0] == 0 && b.dynamic {
		return nil, errors.New("normalization over the batch axis is not supported")
	}
	eps := float64(attrFloat(n, "epsilon", 1e-5))
	xc := b.bin("Sub", x, b.reduceMean(x, axes))
	rs := b.op("Reciprocal", []string{b.op("Sqrt", []string{b.bin("Add", b.reduceMean(b.mul(xc, xc), axes), b.scalar(x, eps))})})
	xh := b.mul(xc, rs)
	gh := b.mul(gy[0], scale)
	inner := b.bin("Sub", b.bin("Sub", gh, b.reduceMean(gh, axes)), b.mul(xh, b.reduceMean(b.mul(gh, xh), axes)))
	return []string{b.mul(rs, inner)}, nil
}
