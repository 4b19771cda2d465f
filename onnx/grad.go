package onnx

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/cutmixcam/cutmix-cam/onnx/onnxpb"
)

//go:generate go tool stringer -type=Objective -linecomment

// Objective is the scalar, per sample, that a gradient graph differentiates.
// The batch objective is the sum over samples; since samples are
// independent in inference mode, each sample's gradient is its own.
// Objective values are constants, safe to share.
type Objective int

// Objectives. The zero value is Logit.
const (
	// Logit is the score of one class (before any final Softmax).
	Logit Objective = iota // logit
	// Probability is the softmax probability of one class.
	Probability // prob
	// CrossEntropy is −log softmax(scores)[label]: the loss FGSM and PGD
	// ascend (summed over the batch, not averaged).
	CrossEntropy // ce
	// Weighted is Σ_k seed[k]·score[k] for a seed vector fed at run time.
	Weighted // seed
)

// ParseObjective parses "logit", "prob", "ce" or "seed".
func ParseObjective(s string) (Objective, error) {
	for o := Logit; o <= Weighted; o++ {
		if strings.EqualFold(s, o.String()) {
			return o, nil
		}
	}
	return Logit, fmt.Errorf("onnx: unknown objective %q; use logit, prob, ce or seed", s)
}

// Names of the tensors a gradient model adds. Graph inputs: the class (or
// label) per sample, int64 [N], negative meaning the top-1 class, or the
// seed, float [N,K]. Graph outputs: the flattened scores [N,K], the class
// each sample used, and GradValueOutput(i)/GradOutput(i) per target.
const (
	GradClassInput  = "cutmix_cam.class"
	GradSeedInput   = "cutmix_cam.seed"
	GradScores      = "cutmix_cam.scores"
	GradClassOutput = "cutmix_cam.class_used"
)

// GradOutput names the gradient of the i-th target in a gradient model.
func GradOutput(i int) string { return fmt.Sprintf("cutmix_cam.grad.%d", i) }

// GradValueOutput names the value of the i-th target in a gradient model.
func GradValueOutput(i int) string { return fmt.Sprintf("cutmix_cam.value.%d", i) }

// Errors of gradient graph construction.
var (
	// ErrNoRule reports an op on the path from a target to the objective
	// that has no backward rule.
	ErrNoRule = errors.New("onnx: no backward rule")
	// ErrNotDependent reports a target the objective does not depend on.
	ErrNotDependent = errors.New("onnx: the objective does not depend on the target")
	// ErrIntegerPath reports a non-float tensor on the path from a target to
	// the objective, where no gradient can flow.
	ErrIntegerPath = errors.New("onnx: integer-typed tensor on the gradient path")
	// ErrScores reports that the scores tensor could not be chosen.
	ErrScores = errors.New("onnx: cannot choose the scores output")
)

// GradRequest selects a gradient computation. The zero value asks for the
// gradient of the top-1 logit with respect to the model input. A
// GradRequest is plain data; Model.Gradient does not keep or change it.
type GradRequest struct {
	// Objective is what is differentiated (default Logit).
	Objective Objective
	// Wrt names the tensors to differentiate with respect to: the model's
	// input name or any intermediate tensor (see Model.Tensors). Empty means
	// the model input.
	Wrt []string
	// Output names the scores output when the model has several; "" means
	// the only output. When it comes out of a Softmax or LogSoftmax (looking
	// back through Identity, Reshape, Flatten and Squeeze), that node's
	// input is used as the scores.
	Output string
	// Classes holds one class per sample for Logit and Probability, the
	// label for CrossEntropy; a negative entry, or a nil slice, means the
	// sample's top-1 class. Ignored for Weighted.
	Classes []int
	// Seed holds the weights of Weighted: n×K values, or K values shared by
	// every sample.
	Seed []float32
}

// Gradient is the result of Model.Gradient: plain data whose slices are
// fresh copies, owned by the caller.
type Gradient struct {
	// Scores holds the class scores, shape [n, K] (K being every non-batch
	// dimension of the scores tensor, flattened).
	Scores Tensor
	// Classes holds the class each sample's objective used (the top-1 class
	// resolved); nil for Weighted.
	Classes []int
	// Values holds each target tensor's value, in GradRequest.Wrt order.
	Values []Tensor
	// Grads holds ∂objective/∂target with the targets' shapes, in the same
	// order.
	Grads []Tensor
}

// gradKey identifies a built gradient graph.
type gradKey struct {
	hash      string
	chw       [3]int
	batch     int
	objective Objective
	wrt       string
	output    string
}

// gradGraph is a built gradient model.
type gradGraph struct {
	data    []byte
	inputs  []string
	outputs []string
	classes int // K
	batch   int // fixed rows per run; 0 when any batch size works
	wrt     []string
}

// gradCache holds built gradient graphs per model hash, input size,
// targets and objective; it is shared by every Model in the process.
var gradCache = struct {
	sync.Mutex
	m map[gradKey]*gradGraph
}{m: map[gradKey]*gradGraph{}}

// maxGradCache bounds how many gradient graphs are kept in memory.
const maxGradCache = 16

func (m *Model) gradKey(req GradRequest) gradKey {
	return gradKey{hash: m.hash, chw: m.chw, batch: m.batch, objective: req.Objective,
		wrt: strings.Join(req.Wrt, "\x00"), output: req.Output}
}

// GradientModel returns the encoded gradient model for req (Classes and
// Seed are ignored: they are fed at run time). Its inputs are the model
// input and GradClassInput (int64 [N]) or, for Weighted, GradSeedInput
// (float [N,K]); its outputs are the original outputs, GradScores,
// GradClassOutput (not for Weighted), then GradValueOutput(i) and
// GradOutput(i) for every target. The model uses only standard ONNX ops of
// the source model's opset, except that a model of opset 13 to 15 becomes
// opset 16 (where its nodes keep their meaning) so that MaxPool's gradient
// can use ScatterElements' add reduction. Built graphs are cached in memory and, when
// Options.GradCache names a directory, on disk; the first build runs the
// model once to learn tensor shapes. The returned bytes must not be
// modified.
func (m *Model) GradientModel(ctx context.Context, req GradRequest) ([]byte, error) {
	gg, err := m.gradGraph(ctx, req)
	if err != nil {
		return nil, err
	}
	return gg.data, nil
}

func (m *Model) gradGraph(ctx context.Context, req GradRequest) (*gradGraph, error) {
	if len(req.Wrt) == 0 {
		req.Wrt = []string{m.input.Name}
	}
	if req.Objective < Logit || req.Objective > Weighted {
		return nil, fmt.Errorf("onnx: gradient: unknown objective %d", int(req.Objective))
	}
	key := m.gradKey(req)
	gradCache.Lock()
	gg, ok := gradCache.m[key]
	gradCache.Unlock()
	if ok {
		return gg, nil
	}
	var file string
	if dir := m.opts.GradCache; dir != "" {
		file = gradCachePath(dir, key)
		gg, ok = loadGradCache(file, key)
		if !ok {
			if err := checkGradCacheDir(dir); err != nil {
				return nil, err
			}
		}
	}
	if !ok {
		var err error
		gg, err = buildGradient(ctx, m, req)
		if err != nil {
			return nil, fmt.Errorf("model %s: gradient: %w", m.path, err)
		}
		if file != "" {
			// The directory was writable a moment ago; a write that fails
			// now (a full disk) costs a rebuild next time, not this result.
			_ = saveGradCache(file, key, gg)
		}
	}
	gradCache.Lock()
	if len(gradCache.m) >= maxGradCache {
		clear(gradCache.m)
	}
	gradCache.m[key] = gg
	gradCache.Unlock()
	return gg, nil
}

// Gradient runs the gradient model for req on n images in input (a float32
// N×C×H×W batch as for Run) and returns the scores, the targets' values and
// their gradients in one run. The model's session for req is built on first
// use and cached in m. Models with a fixed batch size run in chunks, as Run
// does.
func (m *Model) Gradient(ctx context.Context, input []float32, n int, req GradRequest) (*Gradient, error) {
	c, h, w := m.InputShape()
	per := c * h * w
	if n <= 0 || len(input) != n*per {
		return nil, fmt.Errorf("onnx: gradient %s: input has %d values, want %d images × %d×%d×%d", m.path, len(input), n, c, h, w)
	}
	if len(req.Wrt) == 0 {
		req.Wrt = []string{m.input.Name}
	}
	gg, err := m.gradGraph(ctx, req)
	if err != nil {
		return nil, err
	}
	K := gg.classes
	var classes []int64
	var seed []float32
	switch req.Objective {
	case Weighted:
		switch len(req.Seed) {
		case n * K:
			seed = req.Seed
		case K:
			seed = make([]float32, n*K)
			for i := 0; i < n; i++ {
				copy(seed[i*K:], req.Seed)
			}
		default:
			return nil, fmt.Errorf("onnx: gradient %s: seed has %d values, want %d (n×K) or %d (K)", m.path, len(req.Seed), n*K, K)
		}
	default:
		if req.Classes != nil && len(req.Classes) != n {
			return nil, fmt.Errorf("onnx: gradient %s: %d classes for %d images", m.path, len(req.Classes), n)
		}
		classes = make([]int64, n)
		for i := range classes {
			classes[i] = -1
			if req.Classes != nil {
				if req.Classes[i] >= K {
					return nil, fmt.Errorf("onnx: gradient %s: class %d out of range: the model has %d classes", m.path, req.Classes[i], K)
				}
				classes[i] = int64(req.Classes[i])
			}
		}
	}
	s, err := m.gradSession(fmt.Sprint(m.gradKey(req)), gg)
	if err != nil {
		return nil, err
	}
	chunk := n
	if gg.batch > 0 {
		chunk = gg.batch
	}
	res := &Gradient{}
	outs := make([]Tensor, len(gg.outputs))
	var used []int64
	for start := 0; start < n; start += chunk {
		k := min(chunk, n-start)
		rows := k
		if gg.batch > 0 {
			rows = chunk
		}
		img := make([]float32, rows*per)
		copy(img, input[start*per:(start+k)*per])
		var extra ort.Value
		if req.Objective == Weighted {
			sd := make([]float32, rows*K)
			copy(sd, seed[start*K:(start+k)*K])
			extra, err = ort.NewTensor(ort.NewShape(int64(rows), int64(K)), sd)
		} else {
			cl := make([]int64, rows)
			copy(cl, classes[start:start+k])
			extra, err = ort.NewTensor(ort.NewShape(int64(rows)), cl)
		}
		if err != nil {
			return nil, fmt.Errorf("onnx: gradient input tensor: %w", err)
		}
		vals, err := m.runValues(ctx, s, img, rows, extra)
		extra.Destroy()
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			if v.ints != nil {
				used = append(used, v.ints[:k]...)
				continue
			}
			per := len(v.data) / rows
			outs[i].Name = gg.outputs[i]
			outs[i].Data = append(outs[i].Data, v.data[:k*per]...)
			if outs[i].Shape == nil {
				outs[i].Shape = slices.Clone(v.shape)
			}
			outs[i].Shape[0] = int64(start + k)
		}
	}
	res.Scores = outs[0]
	if used != nil {
		res.Classes = make([]int, len(used))
		for i, c := range used {
			res.Classes[i] = int(c)
		}
	}
	first := 1
	if req.Objective != Weighted {
		first = 2
	}
	for i, name := range req.Wrt {
		val := outs[first+2*i]
		if name == m.input.Name {
			val = Tensor{Shape: []int64{int64(n), int64(c), int64(h), int64(w)}, Data: slices.Clone(input)}
		}
		val.Name = name
		gr := outs[first+2*i+1]
		gr.Name = name
		res.Values = append(res.Values, val)
		res.Grads = append(res.Grads, gr)
	}
	return res, nil
}

// gradSession returns the session for gg, cached in m under key (kept
// apart from Run's keys, which are tensor names joined by NUL).
func (m *Model) gradSession(key string, gg *gradGraph) (*session, error) {
	key = "\x01grad\x01" + key
	if s, ok := m.sessions[key]; ok {
		return s, nil
	}
	so, err := m.newSessionOptions()
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(gg.data, gg.inputs, gg.outputs, so)
	if err != nil {
		return nil, fmt.Errorf("onnx: create gradient session for %s: %w", m.path, err)
	}
	ro, err := ort.NewRunOptions()
	if err != nil {
		s.Destroy()
		return nil, fmt.Errorf("onnx: run options: %w", err)
	}
	ss := &session{s: s, outputs: gg.outputs, runOpts: ro, bound: map[int][]ort.Value{}}
	m.sessions[key] = ss
	return ss, nil
}

// anyValue is one output of a run of any element type.
type anyValue struct {
	shape []int64
	elem  onnxpb.TensorProto_DataType
	data  []float32 // float and double tensors
	ints  []int64   // integer tensors
}

// runValues runs s on rows images plus the extra inputs and copies every
// output out of ORT's memory.
func (m *Model) runValues(ctx context.Context, s *session, img []float32, rows int, extra ...ort.Value) ([]anyValue, error) {
	c, h, w := m.InputShape()
	in, err := ort.NewTensor(ort.NewShape(int64(rows), int64(c), int64(h), int64(w)), img)
	if err != nil {
		return nil, fmt.Errorf("onnx: input tensor: %w", err)
	}
	defer in.Destroy()
	inputs := append([]ort.Value{in}, extra...)
	outs := make([]ort.Value, len(s.outputs))
	ran := false
	defer func() {
		if !ran {
			return // a failed run leaves no outputs to free
		}
		for _, o := range outs {
			if o != nil {
				o.Destroy()
			}
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.runOpts.UnsetTerminate()
	finished := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			s.runOpts.Terminate()
		case <-finished:
		}
	}()
	err = s.s.RunWithOptions(inputs, outs, s.runOpts)
	close(finished)
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, fmt.Errorf("onnx: run %s: %w", m.path, err)
	}
	ran = true
	vals := make([]anyValue, len(outs))
	for i, o := range outs {
		v := anyValue{shape: slices.Clone([]int64(o.GetShape())), elem: onnxpb.TensorProto_DataType(o.DataType())}
		switch t := o.(type) {
		case *ort.Tensor[float32]:
			v.data = slices.Clone(t.GetData())
		case *ort.Tensor[float64]:
			v.data = make([]float32, len(t.GetData()))
			for j, x := range t.GetData() {
				v.data[j] = float32(x)
			}
		case *ort.Tensor[int64]:
			v.ints = slices.Clone(t.GetData())
		case *ort.Tensor[int32]:
			for _, x := range t.GetData() {
				v.ints = append(v.ints, int64(x))
			}
			if v.ints == nil {
				v.ints = []int64{}
			}
		}
		vals[i] = v
	}
	return vals, nil
}

// cutOps are ops through which no gradient flows: their outputs are
// shapes, indices or booleans.
var cutOps = map[string]bool{
	"Shape": true, "Size": true, "ConstantOfShape": true, "ArgMax": true, "ArgMin": true,
	"NonZero": true, "Equal": true, "Greater": true, "Less": true, "GreaterOrEqual": true,
	"LessOrEqual": true, "Not": true, "And": true, "Or": true, "Xor": true, "IsNaN": true,
	"IsInf": true, "EyeLike": true, "RandomNormalLike": true, "RandomUniformLike": true,
}

// nodeName describes node i for messages.
func (g *graph) nodeName(i int) string {
	n := g.node(i)
	if n.GetName() != "" {
		return fmt.Sprintf("%q", n.GetName())
	}
	if len(n.GetOutput()) > 0 {
		return fmt.Sprintf("#%d (writes %q)", i, n.GetOutput()[0])
	}
	return fmt.Sprintf("#%d", i)
}

// scoresTensor picks the tensor whose gradient is seeded: the named or
// only output, or the input of a Softmax or LogSoftmax that produces it.
func (g *graph) scoresTensor(outputs []TensorInfo, name string) (string, error) {
	if name == "" {
		if len(outputs) != 1 {
			names := make([]string, len(outputs))
			for i, o := range outputs {
				names[i] = o.Name
			}
			return "", fmt.Errorf("%w: the model has %d outputs (%s); name the scores output", ErrScores, len(outputs), strings.Join(names, ", "))
		}
		name = outputs[0].Name
	} else if !g.has(name) {
		return "", g.noTensor(name)
	}
	t := name
	for steps := 0; steps < 8; steps++ {
		i, ok := g.producer[t]
		if !ok {
			break
		}
		n := g.node(i)
		switch n.GetOpType() {
		case "Softmax", "LogSoftmax":
			return n.GetInput()[0], nil
		case "Identity", "Reshape", "Flatten", "Squeeze":
			t = n.GetInput()[0]
			continue
		}
		break
	}
	return name, nil
}

// buildGradient builds the gradient model of m for req.
func buildGradient(ctx context.Context, m *Model, req GradRequest) (*gradGraph, error) {
	g := m.g
	opset := m.info.Opset()
	if opset < 8 {
		return nil, fmt.Errorf("opset %d is too old for gradient graphs (need 8 or later)", opset)
	}
	scores, err := g.scoresTensor(m.info.Outputs, req.Output)
	if err != nil {
		return nil, err
	}
	for _, t := range req.Wrt {
		if !g.has(t) {
			return nil, g.noTensor(t)
		}
	}
	// fwd: tensors that depend on a target; bwd: tensors the scores depend on.
	fwd := map[string]bool{}
	var stack []string
	for _, t := range req.Wrt {
		if !fwd[t] {
			fwd[t] = true
			stack = append(stack, t)
		}
	}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, i := range g.consumers[t] {
			n := g.node(i)
			if cutOps[n.GetOpType()] {
				continue
			}
			for _, o := range n.GetOutput() {
				if o != "" && !fwd[o] {
					fwd[o] = true
					stack = append(stack, o)
				}
			}
		}
	}
	bwd := map[string]bool{scores: true}
	stack = []string{scores}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i, ok := g.producer[t]
		if !ok {
			continue
		}
		for _, in := range g.node(i).GetInput() {
			if in != "" && !bwd[in] {
				bwd[in] = true
				stack = append(stack, in)
			}
		}
	}
	for _, t := range req.Wrt {
		if !bwd[t] || !fwd[scores] {
			return nil, fmt.Errorf("%w: %q does not reach the scores %q", ErrNotDependent, t, scores)
		}
		if _, isInit := g.inits[t]; isInit {
			return nil, fmt.Errorf("%q is an initializer; gradients are taken with respect to activations", t)
		}
	}
	nodes := m.g.m.GetGraph().GetNode()
	onPath := make([]bool, len(nodes))
	probe := map[string]bool{scores: true}
	for _, t := range req.Wrt {
		probe[t] = true
	}
	for i, n := range nodes {
		if cutOps[n.GetOpType()] {
			continue
		}
		in, out := false, false
		for _, t := range n.GetInput() {
			in = in || fwd[t]
		}
		for _, t := range n.GetOutput() {
			out = out || (bwd[t] && fwd[t])
		}
		if !in || !out {
			continue
		}
		onPath[i] = true
		for _, t := range append(slices.Clone(n.GetInput()), n.GetOutput()...) {
			// Initializers and Constant outputs are read from the graph
			// (the Go binding cannot return the 0-d tensors they often are).
			if t == "" || g.inits[t] != nil {
				continue
			}
			if i, ok := g.producer[t]; ok && g.node(i).GetOpType() == "Constant" {
				continue
			}
			probe[t] = true
		}
	}
	pr, batch, err := m.gradProbe(ctx, probe)
	if err != nil {
		return nil, err
	}
	for i, n := range nodes {
		if !onPath[i] {
			continue
		}
		for _, o := range n.GetOutput() {
			if !fwd[o] || !bwd[o] {
				continue
			}
			if e := pr.elem[o]; e != onnxpb.TensorProto_FLOAT && e != onnxpb.TensorProto_DOUBLE {
				return nil, fmt.Errorf("%w: %q is %s, written by %s node %s", ErrIntegerPath, o,
					strings.ToLower(e.String()), n.GetOpType(), g.nodeName(i))
			}
		}
	}
	for _, t := range req.Wrt {
		if e := pr.elem[t]; e != onnxpb.TensorProto_FLOAT && e != onnxpb.TensorProto_DOUBLE {
			return nil, fmt.Errorf("%w: target %q is %s", ErrIntegerPath, t, strings.ToLower(e.String()))
		}
	}
	b := newGradBuilder(g, opset, pr, m.batch == 0 && batch > 1)
	gg, err := b.build(req, scores, fwd, onPath)
	if err != nil {
		return nil, err
	}
	if m.batch > 0 {
		gg.batch = m.batch
	} else if batch == 1 {
		gg.batch = 1 // the model only ran at batch size 1
	}
	gg.inputs = append([]string{m.input.Name}, gg.inputs...)
	return gg, nil
}

// probed holds what one run revealed about tensors: shapes at the probe's
// batch size, element types, and the values of small integer tensors.
type probed struct {
	shape map[string][]int64
	elem  map[string]onnxpb.TensorProto_DataType
	ints  map[string][]int64
}

// gradProbe runs the model once on zeros with the named tensors as extra
// outputs: at batch 2 for a dynamic batch (so that broadcasting along the
// batch axis shows), falling back to batch 1, or at the fixed batch size.
func (m *Model) gradProbe(ctx context.Context, names map[string]bool) (*probed, int, error) {
	list := make([]string, 0, len(names))
	for t := range names {
		if t != m.input.Name {
			list = append(list, t)
		}
	}
	slices.Sort(list)
	if len(list) == 0 {
		// Every tensor of interest is the input (scores equal to it): a
		// session still needs an output to run.
		list = append(list, m.g.m.GetGraph().GetOutput()[0].GetName())
	}
	data, err := m.g.withOutputs(list)
	if err != nil {
		return nil, 0, err
	}
	so, err := m.newSessionOptions()
	if err != nil {
		return nil, 0, err
	}
	defer so.Destroy()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, []string{m.input.Name}, list, so)
	if err != nil {
		return nil, 0, fmt.Errorf("probe shapes: %w", err)
	}
	ro, err := ort.NewRunOptions()
	if err != nil {
		s.Destroy()
		return nil, 0, err
	}
	ss := &session{s: s, outputs: list, runOpts: ro, bound: map[int][]ort.Value{}}
	defer ss.release()
	batches := []int{2, 1}
	if m.batch > 0 {
		batches = []int{m.batch}
	}
	c, h, w := m.InputShape()
	var vals []anyValue
	var batch int
	for _, batch = range batches {
		vals, err = m.runValues(ctx, ss, make([]float32, batch*c*h*w), batch)
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("probe shapes: %w", err)
	}
	p := &probed{shape: map[string][]int64{}, elem: map[string]onnxpb.TensorProto_DataType{}, ints: map[string][]int64{}}
	for i, t := range list {
		p.shape[t] = vals[i].shape
		p.elem[t] = vals[i].elem
		if vals[i].ints != nil && len(vals[i].ints) <= 1024 {
			p.ints[t] = vals[i].ints
		}
	}
	p.shape[m.input.Name] = []int64{int64(batch), int64(c), int64(h), int64(w)}
	p.elem[m.input.Name] = onnxpb.TensorProto_FLOAT
	for _, n := range m.g.m.GetGraph().GetNode() {
		if n.GetOpType() != "Constant" || len(n.GetOutput()) == 0 {
			continue
		}
		for _, a := range n.GetAttribute() {
			if a.GetName() == "value" && a.GetT() != nil {
				o := n.GetOutput()[0]
				p.shape[o] = slices.Clone(a.GetT().GetDims())
				p.elem[o] = onnxpb.TensorProto_DataType(a.GetT().GetDataType())
			}
		}
	}
	for name, t := range m.g.inits {
		p.shape[name] = slices.Clone(t.GetDims())
		p.elem[name] = onnxpb.TensorProto_DataType(t.GetDataType())
		if v := tensorInts(t); v != nil {
			p.ints[name] = v
		} else if p.elem[name] == onnxpb.TensorProto_INT64 && len(t.GetDims()) > 0 && t.GetDims()[0] == 0 {
			p.ints[name] = []int64{}
		}
	}
	return p, batch, nil
}
