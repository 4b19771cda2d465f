package onnx

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/cutmixcam/cutmix-cam/onnx/onnxpb"
)

// ErrNotONNX reports a file that does not decode as an ONNX model.
var ErrNotONNX = errors.New("onnx: not an ONNX model")

// ErrNoTensor reports a tensor name that the model does not have.
var ErrNoTensor = errors.New("onnx: no such tensor")

// TensorInfo describes one graph input or output.
type TensorInfo struct {
	// Name is the tensor name.
	Name string
	// Elem is the element type as ONNX spells it in lower case ("float",
	// "int64", ...); "" when the model does not say.
	Elem string
	// Shape holds the dimensions; a dynamic dimension is -1.
	Shape []int64
	// Params holds each dynamic dimension's symbolic name ("" for fixed or
	// unnamed dimensions); nil when no dimension is named.
	Params []string
}

// String formats the tensor as name elem[d0,d1,...] with symbolic names for
// dynamic dimensions, e.g. "image float[N,3,224,224]".
func (t TensorInfo) String() string {
	var b strings.Builder
	b.WriteString(t.Name)
	b.WriteByte(' ')
	if t.Elem == "" {
		b.WriteString("?")
	} else {
		b.WriteString(t.Elem)
	}
	b.WriteByte('[')
	for i, d := range t.Shape {
		if i > 0 {
			b.WriteByte(',')
		}
		switch {
		case d >= 0:
			fmt.Fprint(&b, d)
		case t.Params != nil && t.Params[i] != "":
			b.WriteString(t.Params[i])
		default:
			b.WriteByte('?')
		}
	}
	b.WriteByte(']')
	return b.String()
}

// Opset is one operator-set import of a model.
type Opset struct {
	// Domain is the operator domain; "" is the default ai.onnx domain.
	Domain string
	// Version is the imported version.
	Version int64
}

// Info is a model's metadata, read from its protobuf without running it.
type Info struct {
	// Inputs are the graph inputs that are not initializers (the tensors a
	// caller feeds); Outputs are the graph outputs.
	Inputs, Outputs []TensorInfo
	// IRVersion is the ONNX IR version of the file.
	IRVersion int64
	// Opsets lists the operator-set imports.
	Opsets []Opset
	// Producer and ProducerVersion name the tool that wrote the file.
	Producer, ProducerVersion string
	// Ops counts nodes by operator type (domain-qualified outside ai.onnx,
	// e.g. "com.microsoft.FusedConv").
	Ops map[string]int
	// Nodes and Initializers count the graph's nodes and initializers.
	Nodes, Initializers int
}

// Opset returns the version of the default (ai.onnx) operator set, or 0.
func (in Info) Opset() int64 {
	for _, o := range in.Opsets {
		if defaultDomain(o.Domain) {
			return o.Version
		}
	}
	return 0
}

// graph indexes a decoded model for look-ups by tensor name. It never
// changes the model.
type graph struct {
	m         *onnxpb.ModelProto
	producer  map[string]int // tensor → index of the node that writes it
	consumers map[string][]int
	inits     map[string]*onnxpb.TensorProto
	types     map[string]*onnxpb.TypeProto // declared types of inputs, outputs, value infos
}

// parseModel decodes an ONNX file and checks that it has a graph.
func parseModel(data []byte) (*onnxpb.ModelProto, error) {
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotONNX, err)
	}
	g := m.GetGraph()
	if g == nil || len(g.GetNode()) == 0 || len(g.GetOutput()) == 0 || len(m.GetOpsetImport()) == 0 {
		return nil, fmt.Errorf("%w: the file has no graph, nodes, outputs or opset import", ErrNotONNX)
	}
	return m, nil
}

func newGraph(m *onnxpb.ModelProto) *graph {
	g := &graph{
		m:         m,
		producer:  map[string]int{},
		consumers: map[string][]int{},
		inits:     map[string]*onnxpb.TensorProto{},
		types:     map[string]*onnxpb.TypeProto{},
	}
	gp := m.GetGraph()
	for _, t := range gp.GetInitializer() {
		g.inits[t.GetName()] = t
	}
	for _, lists := range [][]*onnxpb.ValueInfoProto{gp.GetInput(), gp.GetOutput(), gp.GetValueInfo()} {
		for _, v := range lists {
			if v.GetType() != nil {
				g.types[v.GetName()] = v.GetType()
			}
		}
	}
	for i, n := range gp.GetNode() {
		for _, o := range n.GetOutput() {
			if o != "" {
				g.producer[o] = i
			}
		}
		for _, in := range n.GetInput() {
			if in != "" {
				g.consumers[in] = append(g.consumers[in], i)
			}
		}
	}
	return g
}

func (g *graph) node(i int) *onnxpb.NodeProto { return g.m.GetGraph().GetNode()[i] }

// defaultDomain reports whether d names the default (ai.onnx) operator set.
func defaultDomain(d string) bool { return d == "" || d == "ai.onnx" }

// opName returns n's op type, prefixed by "domain." outside the default
// operator set, so that a custom op never passes for a standard one.
func opName(n *onnxpb.NodeProto) string {
	if d := n.GetDomain(); !defaultDomain(d) {
		return d + "." + n.GetOpType()
	}
	return n.GetOpType()
}

// isOutput reports whether t is one of the graph's outputs.
func (g *graph) isOutput(t string) bool {
	for _, o := range g.m.GetGraph().GetOutput() {
		if o.GetName() == t {
			return true
		}
	}
	return false
}

// has reports whether name is a tensor of the graph.
func (g *graph) has(name string) bool {
	if _, ok := g.producer[name]; ok {
		return true
	}
	if _, ok := g.inits[name]; ok {
		return true
	}
	_, ok := g.types[name]
	return ok
}

// info collects the model's metadata.
func (g *graph) info() Info {
	m := g.m
	in := Info{
		IRVersion:       m.GetIrVersion(),
		Producer:        m.GetProducerName(),
		ProducerVersion: m.GetProducerVersion(),
		Ops:             map[string]int{},
		Nodes:           len(m.GetGraph().GetNode()),
		Initializers:    len(m.GetGraph().GetInitializer()),
	}
	for _, o := range m.GetOpsetImport() {
		in.Opsets = append(in.Opsets, Opset{Domain: o.GetDomain(), Version: o.GetVersion()})
	}
	for _, v := range m.GetGraph().GetInput() {
		if _, isInit := g.inits[v.GetName()]; isInit {
			continue // IR < 4 lists initializers as inputs too
		}
		in.Inputs = append(in.Inputs, tensorInfo(v))
	}
	for _, v := range m.GetGraph().GetOutput() {
		in.Outputs = append(in.Outputs, tensorInfo(v))
	}
	for _, n := range m.GetGraph().GetNode() {
		in.Ops[opName(n)]++
	}
	return in
}

func tensorInfo(v *onnxpb.ValueInfoProto) TensorInfo {
	t := TensorInfo{Name: v.GetName()}
	tt := v.GetType().GetTensorType()
	if tt == nil {
		return t
	}
	if e := tt.GetElemType(); e != 0 {
		t.Elem = strings.ToLower(onnxpb.TensorProto_DataType(e).String())
	}
	if tt.GetShape() == nil {
		return t
	}
	named := false
	params := make([]string, len(tt.GetShape().GetDim()))
	for i, d := range tt.GetShape().GetDim() {
		if dv, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); ok && dv.DimValue >= 0 {
			t.Shape = append(t.Shape, dv.DimValue)
			continue
		}
		t.Shape = append(t.Shape, -1)
		if p := d.GetDimParam(); p != "" {
			params[i] = p
			named = true
		}
	}
	if named {
		t.Params = params
	}
	return t
}

// passThrough lists ops that do not change which tensor is "the" activation
// when walking between a pooling node and the classifier head.
var passThrough = map[string]bool{
	"Identity": true, "Dropout": true, "Flatten": true, "Reshape": true,
	"Squeeze": true, "Unsqueeze": true,
}

// pool is a global-pooling node found in the graph.
type pool struct {
	node   int
	op     string
	input  string // the pooled activation (after looking through Identity/Dropout)
	output string
	kernel []int64 // AveragePool kernel_shape; nil for global ops
}

// pools finds the nodes that may pool a 4-D map to 1×1: GlobalAveragePool,
// ReduceMean over the two spatial axes, and AveragePool (whether its kernel
// covers the map is decided later from run-time shapes).
func (g *graph) pools() []pool {
	var out []pool
	for i, n := range g.m.GetGraph().GetNode() {
		if !defaultDomain(n.GetDomain()) {
			continue
		}
		if len(n.GetInput()) == 0 || len(n.GetOutput()) == 0 {
			continue
		}
		p := pool{node: i, op: n.GetOpType(), input: n.GetInput()[0], output: n.GetOutput()[0]}
		switch n.GetOpType() {
		case "GlobalAveragePool":
		case "AveragePool":
			p.kernel = attrInts(n, "kernel_shape")
			if len(p.kernel) != 2 {
				continue
			}
		case "ReduceMean":
			axes := attrInts(n, "axes")
			if len(n.GetInput()) > 1 && n.GetInput()[1] != "" {
				axes = g.constInts(n.GetInput()[1])
			}
			if !spatialAxes(axes) {
				continue
			}
		default:
			continue
		}
		p.input = g.lookBack(p.input)
		out = append(out, p)
	}
	return out
}

// lookBack walks from t to the tensor that Identity or Dropout nodes copy.
func (g *graph) lookBack(t string) string {
	for {
		i, ok := g.producer[t]
		if !ok {
			return t
		}
		n := g.node(i)
		if (n.GetOpType() != "Identity" && n.GetOpType() != "Dropout") || len(n.GetInput()) == 0 {
			return t
		}
		t = n.GetInput()[0]
	}
}

func spatialAxes(axes []int64) bool {
	if len(axes) != 2 {
		return false
	}
	a, b := axes[0], axes[1]
	if a > b {
		a, b = b, a
	}
	return (a == 2 && b == 3) || (a == -2 && b == -1)
}

func attrInts(n *onnxpb.NodeProto, name string) []int64 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetInts()
		}
	}
	return nil
}

func attrInt(n *onnxpb.NodeProto, name string, def int64) int64 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetI()
		}
	}
	return def
}

func attrFloat(n *onnxpb.NodeProto, name string, def float32) float32 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetF()
		}
	}
	return def
}

// constInts reads an int64 initializer or Constant node output.
func (g *graph) constInts(name string) []int64 {
	if t, ok := g.inits[name]; ok {
		return tensorInts(t)
	}
	if i, ok := g.producer[name]; ok && g.node(i).GetOpType() == "Constant" {
		for _, a := range g.node(i).GetAttribute() {
			switch a.GetName() {
			case "value":
				return tensorInts(a.GetT())
			case "value_ints":
				return a.GetInts()
			}
		}
	}
	return nil
}

func tensorInts(t *onnxpb.TensorProto) []int64 {
	if v := t.GetInt64Data(); len(v) > 0 {
		return v
	}
	if onnxpb.TensorProto_DataType(t.GetDataType()) == onnxpb.TensorProto_INT64 {
		raw := t.GetRawData()
		v := make([]int64, len(raw)/8)
		for i := range v {
			var x uint64
			for k := 0; k < 8; k++ {
				x |= uint64(raw[8*i+k]) << (8 * k)
			}
			v[i] = int64(x)
		}
		return v
	}
	return nil
}

// isConst reports whether t is fixed by the model alone: an initializer, or
// the output of a node whose inputs are all constant.
func (g *graph) isConst(t string) bool {
	return g.isConstDepth(t, 0)
}

func (g *graph) isConstDepth(t string, depth int) bool {
	if _, ok := g.inits[t]; ok {
		return true
	}
	i, ok := g.producer[t]
	if !ok || depth > 16 {
		return false
	}
	for _, in := range g.node(i).GetInput() {
		if in != "" && !g.isConstDepth(in, depth+1) {
			return false
		}
	}
	return true
}

// headPlan is the structure of a linear classifier head found after a
// pooling node, before its constant tensors are evaluated.
type headPlan struct {
	op             string // "Gemm", "MatMul", "MatMul+Add" or "" (pooled scores)
	weight, bias   string // constant tensors
	transB         bool
	alpha, beta    float32
	output         string // tensor that holds the class scores
	unsupportedWhy string
}

// head follows the pooled tensor through pass-through ops to a Gemm or
// MatMul(+Add) with a constant weight. With no linear layer, the pooled
// values themselves are the class scores (SqueezeNet-style heads).
func (g *graph) head(pooled string) headPlan {
	t := pooled
	for steps := 0; steps < 16; steps++ {
		cs := g.consumers[t]
		if len(cs) != 1 {
			return headPlan{output: t}
		}
		n := g.node(cs[0])
		switch {
		case passThrough[n.GetOpType()] && len(n.GetOutput()) > 0:
			t = n.GetOutput()[0]
			continue
		case n.GetOpType() == "Gemm" && len(n.GetInput()) >= 2 && n.GetInput()[0] == t:
			h := headPlan{op: "Gemm", weight: n.GetInput()[1], transB: attrInt(n, "transB", 0) == 1,
				alpha: attrFloat(n, "alpha", 1), beta: attrFloat(n, "beta", 1), output: n.GetOutput()[0]}
			if len(n.GetInput()) > 2 && n.GetInput()[2] != "" {
				h.bias = n.GetInput()[2]
			}
			if attrInt(n, "transA", 0) == 1 {
				h.unsupportedWhy = "Gemm with transA=1"
			}
			if !g.isConst(h.weight) || (h.bias != "" && !g.isConst(h.bias)) {
				h.unsupportedWhy = "Gemm weight is not constant"
			}
			return h
		case n.GetOpType() == "MatMul" && len(n.GetInput()) == 2 && n.GetInput()[0] == t:
			h := headPlan{op: "MatMul", weight: n.GetInput()[1], alpha: 1, beta: 1, output: n.GetOutput()[0]}
			if !g.isConst(h.weight) {
				h.unsupportedWhy = "MatMul weight is not constant"
				return h
			}
			if cs := g.consumers[h.output]; len(cs) == 1 {
				a := g.node(cs[0])
				if a.GetOpType() == "Add" && len(a.GetInput()) == 2 {
					other := a.GetInput()[1]
					if other == h.output {
						other = a.GetInput()[0]
					}
					if g.isConst(other) {
						h.op, h.bias, h.output = "MatMul+Add", other, a.GetOutput()[0]
					}
				}
			}
			return h
		default:
			return headPlan{output: t}
		}
	}
	return headPlan{output: t}
}

// tensorNames returns every tensor written by a node, in node order.
func (g *graph) tensorNames() []string {
	var out []string
	for _, n := range g.m.GetGraph().GetNode() {
		for _, o := range n.GetOutput() {
			if o != "" {
				out = append(out, o)
			}
		}
	}
	return out
}

// withOutputs returns the encoded model with extra graph outputs appended
// (names already among the outputs are kept once), typed where the model
// declares the type and left for ONNX Runtime to infer otherwise. The
// receiver's model is not changed.
func (g *graph) withOutputs(names []string) ([]byte, error) {
	m := shallowModel(g.m)
	have := map[string]bool{}
	for _, o := range m.GetGraph().GetOutput() {
		have[o.GetName()] = true
	}
	for _, name := range names {
		if have[name] {
			continue
		}
		if !g.has(name) {
			return nil, g.noTensor(name)
		}
		have[name] = true
		vi := &onnxpb.ValueInfoProto{Name: proto.String(name)}
		switch {
		case g.types[name] != nil:
			vi.Type = g.types[name]
		case g.inits[name] != nil:
			vi.Type = &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
				ElemType: proto.Int32(g.inits[name].GetDataType())}}}
		}
		m.Graph.Output = append(m.Graph.Output, vi)
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// noTensor builds the error for a missing tensor name, listing the
// candidate CAM layers (pooling inputs and the activations behind them).
func (g *graph) noTensor(name string) error {
	var cands []string
	seen := map[string]bool{}
	for _, p := range g.pools() {
		for _, t := range g.chain(p.input, 3) {
			if !seen[t] {
				seen[t] = true
				cands = append(cands, t)
			}
		}
	}
	sort.Strings(cands)
	msg := "none found; `cutmix-cam inspect --all` lists every tensor"
	if len(cands) > 0 {
		msg = strings.Join(cands, ", ") + " (`cutmix-cam inspect --all` lists every tensor)"
	}
	return fmt.Errorf("%w %q; candidates: %s", ErrNoTensor, name, msg)
}

// lookThrough lists the single-input element-wise nodes that sit between a
// layer's convolution and the pooling without changing the map's geometry.
var lookThrough = map[string]bool{
	"Relu": true, "Clip": true, "BatchNormalization": true, "Identity": true,
	"Dropout": true, "LeakyRelu": true, "HardSwish": true, "Sigmoid": true,
}

// chain returns t and up to k tensors behind it through lookThrough nodes.
func (g *graph) chain(t string, k int) []string {
	out := []string{t}
	for len(out) <= k {
		i, ok := g.producer[t]
		if !ok || !lookThrough[g.node(i).GetOpType()] || len(g.node(i).GetInput()) == 0 {
			break
		}
		t = g.node(i).GetInput()[0]
		out = append(out, t)
	}
	return out
}

// shallowModel returns a copy of m for re-encoding with a changed graph:
// its graph is a new GraphProto sharing m's nodes, initializers and value
// infos (never their contents' copies, which for a large model would
// duplicate hundreds of megabytes), and its opset imports are its own.
// Every repeated field is clipped, so appending to the copy's slices never
// writes into m's; the shared messages themselves must not be modified.
// Unknown fields (from a newer onnx.proto) are kept.
func shallowModel(m *onnxpb.ModelProto) *onnxpb.ModelProto {
	g := m.GetGraph()
	ng := &onnxpb.GraphProto{
		Node: slices.Clip(g.Node), Name: g.Name, Initializer: slices.Clip(g.Initializer),
		SparseInitializer: slices.Clip(g.SparseInitializer), DocString: g.DocString,
		Input: slices.Clip(g.Input), Output: slices.Clip(g.Output), ValueInfo: slices.Clip(g.ValueInfo),
		QuantizationAnnotation: slices.Clip(g.QuantizationAnnotation),
	}
	ng.ProtoReflect().SetUnknown(g.ProtoReflect().GetUnknown())
	nm := &onnxpb.ModelProto{
		IrVersion: m.IrVersion, ProducerName: m.ProducerName, ProducerVersion: m.ProducerVersion,
		Domain: m.Domain, ModelVersion: m.ModelVersion, DocString: m.DocString, Graph: ng,
		MetadataProps: slices.Clip(m.MetadataProps), TrainingInfo: slices.Clip(m.TrainingInfo),
		Functions: slices.Clip(m.Functions),
	}
	for _, o := range m.OpsetImport {
		nm.OpsetImport = append(nm.OpsetImport, proto.Clone(o).(*onnxpb.OperatorSetIdProto))
	}
	nm.ProtoReflect().SetUnknown(m.ProtoReflect().GetUnknown())
	return nm
}
