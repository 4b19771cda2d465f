package onnx

import (
	"fmt"
	"slices"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/cutmixcam/cutmix-cam/onnx/onnxpb"
)

// gradBuildVersion names the rules that build gradient graphs. It is part
// of every on-disk cache key (Options.GradCache): bump it whenever a change
// to buildGradient, the builder or the backward rules changes the graphs
// they emit, so that cached graphs of the old rules are rebuilt.
const gradBuildVersion = 5

// gradBuilder appends backward nodes to a copy of a model's graph. Shapes
// come from one probe run (at batch 2 when the batch is dynamic); every
// node that restores a shape reads it at run time with Shape, so the graph
// serves any batch size.
type gradBuilder struct {
	g       *graph
	opset   int64 // the source model's: how its nodes read
	emit    int64 // the gradient model's: which ops the new nodes may use
	p       *probed
	dynamic bool // the batch dimension varies at run time
	nodes   []*onnxpb.NodeProto
	inits   []*onnxpb.TensorProto
	count   int
	shapes  map[string]string // tensor → its Shape node output
}

func newGradBuilder(g *graph, opset int64, p *probed, dynamic bool) *gradBuilder {
	return &gradBuilder{g: g, opset: opset, emit: emitOpset(g, opset), p: p, dynamic: dynamic, shapes: map[string]string{}}
}

// emitOpset returns the ai.onnx opset the gradient model declares: 16 for
// a model of opset 13 to 15, whose nodes all keep their meaning there
// (14 to 16 only add types and attributes with backward-compatible
// defaults; RoiAlign, whose default coordinate mode changed in 16, keeps
// the model's own opset), so that MaxPool's backward can scatter-add its
// gradients with ScatterElements; the model's own opset otherwise.
func emitOpset(g *graph, opset int64) int64 {
	if opset < 13 || opset >= 16 {
		return opset
	}
	for _, n := range g.m.GetGraph().GetNode() {
		if opName(n) == "RoiAlign" {
			return opset
		}
	}
	return 16
}

// gradRule computes the gradients of a node's inputs from its outputs'
// gradients gy ("" where an output has none). need marks the inputs that
// want a gradient; the result has one entry per input ("" for none).
type gradRule func(b *gradBuilder, n *onnxpb.NodeProto, gy []string, need []bool) ([]string, error)

func (b *gradBuilder) fresh(hint string) string {
	b.count++
	return fmt.Sprintf("cutmix_cam/%d/%s", b.count, hint)
}

// node appends a node with nout outputs and returns their names.
func (b *gradBuilder) node(op string, ins []string, nout int, attrs ...*onnxpb.AttributeProto) []string {
	outs := make([]string, nout)
	for i := range outs {
		outs[i] = b.fresh(op)
	}
	b.nodes = append(b.nodes, &onnxpb.NodeProto{
		OpType: proto.String(op), Name: proto.String(outs[0]), Input: ins, Output: outs, Attribute: attrs,
	})
	return outs
}

// op appends a single-output node.
func (b *gradBuilder) op(op string, ins []string, attrs ...*onnxpb.AttributeProto) string {
	return b.node(op, ins, 1, attrs...)[0]
}

func (b *gradBuilder) bin(op, x, y string) string { return b.op(op, []string{x, y}) }

func aInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func aInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func aString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func attrString(n *onnxpb.NodeProto, name, def string) string {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return string(a.GetS())
		}
	}
	return def
}

func hasAttr(n *onnxpb.NodeProto, name string) bool {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return true
		}
	}
	return false
}

// i64 adds an int64 initializer with the given dims (1-D when dims is nil).
func (b *gradBuilder) i64(dims []int64, v ...int64) string {
	if dims == nil {
		dims = []int64{int64(len(v))}
	}
	name := b.fresh("const")
	b.inits = append(b.inits, &onnxpb.TensorProto{Name: proto.String(name),
		DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: dims, Int64Data: v})
	return name
}

// fconst adds a float initializer of element type dt.
func (b *gradBuilder) fconst(dt onnxpb.TensorProto_DataType, dims []int64, v []float64) string {
	name := b.fresh("const")
	t := &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(dt)), Dims: dims}
	if dt == onnxpb.TensorProto_DOUBLE {
		t.DoubleData = v
	} else {
		t.DataType = proto.Int32(int32(onnxpb.TensorProto_FLOAT))
		t.FloatData = make([]float32, len(v))
		for i, x := range v {
			t.FloatData[i] = float32(x)
		}
	}
	b.inits = append(b.inits, t)
	return name
}

// scalar adds a 0-d float constant of x's element type.
func (b *gradBuilder) scalar(x string, v float64) string {
	return b.fconst(b.dtype(x), []int64{}, []float64{v})
}

func (b *gradBuilder) dtype(t string) onnxpb.TensorProto_DataType {
	if e, ok := b.p.elem[t]; ok && e == onnxpb.TensorProto_DOUBLE {
		return e
	}
	return onnxpb.TensorProto_FLOAT
}

func (b *gradBuilder) shapeOf(t string) []int64 { return b.p.shape[t] }

func (b *gradBuilder) rank(t string) int { return len(b.p.shape[t]) }

// shape returns a Shape node of t, shared by every user.
func (b *gradBuilder) shape(t string) string {
	if s, ok := b.shapes[t]; ok {
		return s
	}
	s := b.op("Shape", []string{t})
	b.shapes[t] = s
	return s
}

// reshapeLike reshapes g to x's run-time shape.
func (b *gradBuilder) reshapeLike(g, x string) string {
	return b.bin("Reshape", g, b.shape(x))
}

// expandLike broadcasts g to x's run-time shape.
func (b *gradBuilder) expandLike(g, x string) string {
	return b.bin("Expand", g, b.shape(x))
}

// castMask turns a boolean tensor into 0/1 of x's element type.
func (b *gradBuilder) castMask(cond, x string) string {
	return b.op("Cast", []string{cond}, aInt("to", int64(b.dtype(x))))
}

func (b *gradBuilder) mul(x, y string) string { return b.bin("Mul", x, y) }

func (b *gradBuilder) mulScalar(x string, v float64) string {
	if v == 1 {
		return x
	}
	return b.mul(x, b.scalar(x, v))
}

// reduceSum sums t over axes (already non-negative).
func (b *gradBuilder) reduceSum(t string, axes []int64, keep bool) string {
	k := int64(0)
	if keep {
		k = 1
	}
	if b.opset >= 13 {
		return b.op("ReduceSum", []string{t, b.i64(nil, axes...)}, aInt("keepdims", k))
	}
	return b.op("ReduceSum", []string{t}, aInts("axes", axes...), aInt("keepdims", k))
}

func (b *gradBuilder) unsqueeze(t string, axes ...int64) string {
	if b.opset >= 13 {
		return b.op("Unsqueeze", []string{t, b.i64(nil, axes...)})
	}
	return b.op("Unsqueeze", []string{t}, aInts("axes", axes...))
}

// slice slices t along axes with step 1.
func (b *gradBuilder) slice(t string, starts, ends, axes []int64) string {
	if b.opset >= 10 {
		return b.op("Slice", []string{t, b.i64(nil, starts...), b.i64(nil, ends...), b.i64(nil, axes...)})
	}
	return b.op("Slice", []string{t}, aInts("starts", starts...), aInts("ends", ends...), aInts("axes", axes...))
}

// pad zero-pads t; pads lists the begin pads of every axis, then the ends.
func (b *gradBuilder) pad(t string, pads []int64) string {
	if b.opset >= 11 {
		return b.op("Pad", []string{t, b.i64(nil, pads...)})
	}
	return b.op("Pad", []string{t}, aInts("pads", pads...))
}

// split splits t along axis into pieces of the given sizes.
func (b *gradBuilder) split(t string, axis int64, sizes []int64) []string {
	if b.opset >= 13 {
		return b.node("Split", []string{t, b.i64(nil, sizes...)}, len(sizes), aInt("axis", axis))
	}
	return b.node("Split", []string{t}, len(sizes), aInt("axis", axis), aInts("split", sizes...))
}

// transpose permutes t.
func (b *gradBuilder) transpose(t string, perm []int64) string {
	return b.op("Transpose", []string{t}, aInts("perm", perm...))
}

// zerosLike returns zeros with t's run-time shape.
func (b *gradBuilder) zerosLike(t string) string {
	return b.expandLike(b.scalar(t, 0), t)
}

// sum adds gradient contributions.
func (b *gradBuilder) sum(ts []string) string {
	if len(ts) == 1 {
		return ts[0]
	}
	return b.op("Sum", ts)
}

// unbroadcast sums g (static probe shape gs) down to the shape of x, the
// operand that was broadcast: over leading axes x lacks and over axes where
// x has 1 and g does not.
func (b *gradBuilder) unbroadcast(g string, gs []int64, x string) string {
	xs := b.shapeOf(x)
	r := len(gs) - len(xs)
	if r < 0 {
		return b.reshapeLike(g, x)
	}
	var axes []int64
	for i := 0; i < r; i++ {
		axes = append(axes, int64(i))
	}
	for i, d := range xs {
		if d == 1 && gs[i+r] != 1 {
			axes = append(axes, int64(i+r))
		}
	}
	if len(axes) == 0 {
		return g
	}
	s := b.reduceSum(g, axes, true)
	if r > 0 || len(axes) > 0 {
		s = b.reshapeLike(s, x)
	}
	return s
}

// fitSpatial crops or zero-pads the axes from 2 on of t (static sizes
// have) at their ends to want.
func (b *gradBuilder) fitSpatial(t string, have, want []int64) string {
	var cropAxes, cropEnds []int64
	pads := make([]int64, 2*(len(want)+2))
	padded := false
	for i := range want {
		ax := int64(i + 2)
		switch {
		case have[i] > want[i]:
			cropAxes = append(cropAxes, ax)
			cropEnds = append(cropEnds, want[i])
		case have[i] < want[i]:
			pads[len(want)+2+i+2] = want[i] - have[i]
			padded = true
		}
	}
	if len(cropAxes) > 0 {
		t = b.slice(t, make([]int64, len(cropAxes)), cropEnds, cropAxes)
	}
	if padded {
		t = b.pad(t, pads)
	}
	return t
}

// build assembles the gradient model: the objective's seed gradient, the
// backward pass over the path nodes in reverse order, and the outputs.
func (b *gradBuilder) build(req GradRequest, scores string, fwd map[string]bool, onPath []bool) (*gradGraph, error) {
	ss := b.shapeOf(scores)
	if len(ss) < 1 {
		return nil, fmt.Errorf("%w: scores %q have shape %v", ErrScores, scores, ss)
	}
	K := int64(1)
	for _, d := range ss[1:] {
		K *= d
	}
	dt := b.dtype(scores)
	gg := &gradGraph{classes: int(K), wrt: req.Wrt}
	flat := b.bin("Reshape", scores, b.i64(nil, 0, -1))
	var outs []*onnxpb.ValueInfoProto
	addOut := func(name, src string, elem onnxpb.TensorProto_DataType) {
		b.nodes = append(b.nodes, &onnxpb.NodeProto{OpType: proto.String("Identity"), Name: proto.String(name),
			Input: []string{src}, Output: []string{name}})
		outs = append(outs, &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
			Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem))}}}})
		gg.outputs = append(gg.outputs, name)
	}
	addOut(GradScores, flat, dt)
	var dflat string
	var in *onnxpb.ValueInfoProto
	if req.Objective == Weighted {
		in = valueInfo(GradSeedInput, dt, "N", K)
		gg.inputs = []string{GradSeedInput}
		dflat = GradSeedInput
	} else {
		in = valueInfo(GradClassInput, onnxpb.TensorProto_INT64, "N")
		gg.inputs = []string{GradClassInput}
		neg := b.castMask(b.bin("Less", b.op("Cast", []string{GradClassInput}, aInt("to", int64(onnxpb.TensorProto_FLOAT))),
			b.fconst(onnxpb.TensorProto_FLOAT, []int64{}, []float64{0})), "")
		negi := b.op("Cast", []string{neg}, aInt("to", int64(onnxpb.TensorProto_INT64)))
		top := b.op("ArgMax", []string{flat}, aInt("axis", 1), aInt("keepdims", 0))
		cls := b.bin("Add", GradClassInput, b.mul(negi, b.bin("Sub", top, GradClassInput)))
		addOut(GradClassOutput, cls, onnxpb.TensorProto_INT64)
		ar := make([]int64, K)
		for i := range ar {
			ar[i] = int64(i)
		}
		onehot := b.castMask(b.bin("Equal", b.unsqueeze(cls, 1), b.i64([]int64{1, K}, ar...)), scores)
		switch req.Objective {
		case Logit:
			dflat = onehot
		case Probability:
			p := b.op("Softmax", []string{flat}, aInt("axis", 1))
			pc := b.reduceSum(b.mul(p, onehot), []int64{1}, true)
			dflat = b.mul(pc, b.bin("Sub", onehot, p))
		case CrossEntropy:
			p := b.op("Softmax", []string{flat}, aInt("axis", 1))
			dflat = b.bin("Sub", p, onehot)
		}
	}
	contrib := map[string][]string{scores: {dflat}}
	if len(ss) != 2 {
		contrib[scores] = []string{b.reshapeLike(dflat, scores)}
	}
	nodes := b.g.m.GetGraph().GetNode()
	for i := len(nodes) - 1; i >= 0; i-- {
		if !onPath[i] {
			continue
		}
		n := nodes[i]
		gy := make([]string, len(n.GetOutput()))
		found := false
		for k, o := range n.GetOutput() {
			if cs := contrib[o]; len(cs) > 0 {
				gy[k] = b.sum(cs)
				contrib[o] = []string{gy[k]}
				found = true
			}
		}
		if !found {
			continue
		}
		need := make([]bool, len(n.GetInput()))
		for k, t := range n.GetInput() {
			need[k] = t != "" && fwd[t]
		}
		op := opName(n)
		if x, d, ok := b.silu(i, n, req.Wrt); ok && need[0] && need[1] {
			contrib[x] = append(contrib[x], b.mul(gy[0], d))
			continue
		}
		rule, ok := gradRules[op]
		if !ok {
			return nil, fmt.Errorf("%w for op %s (node %s)", ErrNoRule, op, b.g.nodeName(i))
		}
		gx, err := rule(b, n, gy, need)
		if err != nil {
			return nil, fmt.Errorf("backward of %s node %s: %w", op, b.g.nodeName(i), err)
		}
		for k, t := range n.GetInput() {
			if !need[k] {
				continue
			}
			if k >= len(gx) || gx[k] == "" {
				return nil, fmt.Errorf("%w for input %d of op %s (node %s)", ErrNoRule, k, op, b.g.nodeName(i))
			}
			contrib[t] = append(contrib[t], gx[k])
		}
	}
	for i, t := range req.Wrt {
		cs := contrib[t]
		if len(cs) == 0 {
			return nil, fmt.Errorf("%w: %q", ErrNotDependent, t)
		}
		addOut(GradValueOutput(i), t, b.dtype(t))
		addOut(GradOutput(i), b.sum(cs), b.dtype(t))
	}
	m := shallowModel(b.g.m)
	if b.emit != b.opset {
		for _, o := range m.GetOpsetImport() {
			if defaultDomain(o.GetDomain()) {
				o.Version = proto.Int64(b.emit)
			}
		}
		// Opset 16 came with IR version 8 (ONNX 1.10), which changed
		// nothing an existing graph uses.
		if m.GetIrVersion() < 8 {
			m.IrVersion = proto.Int64(8)
		}
	}
	gp := m.GetGraph()
	gp.Node = append(gp.Node, b.nodes...)
	gp.Initializer = append(gp.Initializer, b.inits...)
	gp.Input = append(gp.Input, in)
	gp.Output = append(gp.Output, outs...)
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	gg.data = data
	return gg, nil
}

func valueInfo(name string, elem onnxpb.TensorProto_DataType, dims ...any) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		switch d := d.(type) {
		case int64:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{
				Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		case string:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{
				Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		}
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
		Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(elem)), Shape: shape}}}}
}

// normAxes makes axes non-negative for rank r and sorts them.
func normAxes(axes []int64, r int) []int64 {
	out := make([]int64, len(axes))
	for i, a := range axes {
		if a < 0 {
			a += int64(r)
		}
		out[i] = a
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return slices.Compact(out)
}

// constVals reads the int64 values of t (initializer, Constant or probe).
func (b *gradBuilder) constVals(t string) ([]int64, bool) {
	if v := b.g.constInts(t); v != nil {
		return v, true
	}
	v, ok := b.p.ints[t]
	return v, ok
}

// silu recognises node i, n, as the Mul of SiLU (Swish), y = x·σ(x), where
// σ(x) is a Sigmoid of x used by nothing else and not a target, and
// returns x and the derivative dy/dx = σ + y·(1 − σ). Its four
// element-wise passes replace the seven of the Mul and Sigmoid rules
// (g·σ, g·x, 1 − σ, σ·(1 − σ), its product with g·x, and the sum of
// both paths); EfficientNet and other SiLU networks spend most of their
// backward pass in them.
func (b *gradBuilder) silu(i int, n *onnxpb.NodeProto, wrt []string) (x, d string, ok bool) {
	if opName(n) != "Mul" || len(n.GetInput()) != 2 {
		return "", "", false
	}
	in := n.GetInput()
	for k := range 2 {
		x, s := in[k], in[1-k]
		p, ok := b.g.producer[s]
		if !ok {
			continue
		}
		sig := b.g.node(p)
		if opName(sig) != "Sigmoid" || len(sig.GetInput()) != 1 || sig.GetInput()[0] != x {
			continue
		}
		if c := b.g.consumers[s]; len(c) != 1 || c[0] != i || slices.Contains(wrt, s) || b.g.isOutput(s) {
			continue
		}
		y := n.GetOutput()[0]
		return x, b.bin("Add", s, b.mul(y, b.bin("Sub", b.scalar(s, 1), s))), true
	}
	return "", "", false
}
