package onnx

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNoLayer reports a model in which no global pooling of a 4-D activation
// was found, so no CAM target layer can be chosen automatically.
var ErrNoLayer = errors.New("onnx: no global pooling of a 4-D activation found; name the target tensor")

// Layer is a CAM target layer: a 4-D activation that a global pooling
// reduces to one value per channel.
type Layer struct {
	// Tensor names the activation.
	Tensor string
	// Pool is the pooling op ("GlobalAveragePool", "ReduceMean",
	// "AveragePool"), empty for a layer named by the user.
	Pool string
	// Pooled names the pooling output.
	Pooled string
	// Channels, Height and Width are the activation's dimensions for the
	// model's input size.
	Channels, Height, Width int
}

// Head is a linear classifier head after the pooling: scores = Weight ·
// pooled + Bias.
type Head struct {
	// Op describes the head: "Gemm", "MatMul", "MatMul+Add", or "identity"
	// when the pooled values are the class scores themselves (as in
	// SqueezeNet, whose last convolution has one channel per class).
	Op string
	// Output names the tensor holding the class scores.
	Output string
	// Classes and Channels give Weight's size.
	Classes, Channels int
	// Weight is Classes×Channels, row-major (rows = classes, cols =
	// channels), with Gemm's alpha and any transpose applied. For the
	// identity head it is the identity matrix.
	Weight []float32
	// Bias has one value per class (zeros when the head has none), with
	// Gemm's beta applied.
	Bias []float32
}

// probeResult caches what one zero-input run revealed.
type probeResult struct {
	layers []Layer
	heads  []Head
	errs   []error // why a head was not usable, per layer
}

// Layers returns every confirmed CAM target layer in graph order, with its
// classifier head. The last one is the automatic choice (TargetLayer).
// The first call runs the model once on a zero image to learn shapes and
// head weights; later calls reuse the result.
func (m *Model) Layers(ctx context.Context) ([]Layer, error) {
	p, err := m.runProbe(ctx)
	if err != nil {
		return nil, err
	}
	return p.layers, nil
}

// TargetLayer returns the automatically detected CAM target layer: the last
// 4-D activation feeding a global pooling (GlobalAveragePool, ReduceMean
// over H and W, or an AveragePool whose window covers the map), looking
// through Identity and Dropout.
func (m *Model) TargetLayer(ctx context.Context) (Layer, error) {
	p, err := m.runProbe(ctx)
	if err != nil {
		return Layer{}, err
	}
	if len(p.layers) == 0 {
		if l, ok := m.lastActivation(ctx); ok {
			return Layer{}, fmt.Errorf("%w in %s; its last 4-D activation, a usual Grad-CAM choice, is %q (%d×%d×%d)",
				ErrNoLayer, m.path, l.Tensor, l.Channels, l.Height, l.Width)
		}
		return Layer{}, fmt.Errorf("%w in %s", ErrNoLayer, m.path)
	}
	return p.layers[len(p.layers)-1], nil
}

// spatialOps write a float activation as their first output.
var spatialOps = map[string]bool{
	"Conv": true, "Relu": true, "Clip": true, "LeakyRelu": true, "PRelu": true, "Elu": true, "Selu": true,
	"Sigmoid": true, "HardSigmoid": true, "HardSwish": true, "Tanh": true, "Softplus": true, "Mul": true,
	"Add": true, "MaxPool": true, "AveragePool": true, "BatchNormalization": true, "Concat": true,
	"Dropout": true, "Identity": true, "LRN": true,
}

// lastActivation finds, for the error of a model without global pooling,
// the last tensor in graph order that is a 4-D activation with more than
// one position (such as VGG's last feature map or MNIST's last pooling),
// by one probe run. ok is false if there is none or the probe fails.
func (m *Model) lastActivation(ctx context.Context) (Layer, bool) {
	var names []string
	for _, n := range m.g.m.GetGraph().GetNode() {
		if spatialOps[opName(n)] && len(n.GetOutput()) > 0 {
			names = append(names, n.GetOutput()[0])
		}
	}
	if len(names) == 0 {
		return Layer{}, false
	}
	shapes, err := m.probeRun(ctx, names)
	if err != nil {
		return Layer{}, false
	}
	for i := len(names) - 1; i >= 0; i-- {
		if s := shapes[names[i]]; len(s) == 4 && s[2]*s[3] > 1 {
			return Layer{Tensor: names[i], Channels: int(s[1]), Height: int(s[2]), Width: int(s[3])}, true
		}
	}
	return Layer{}, false
}

// Head returns the classifier head after the target layer's pooling.
func (m *Model) Head(ctx context.Context) (Head, error) {
	p, err := m.runProbe(ctx)
	if err != nil {
		return Head{}, err
	}
	if len(p.layers) == 0 {
		return Head{}, fmt.Errorf("%w in %s", ErrNoLayer, m.path)
	}
	i := len(p.layers) - 1
	return p.heads[i], p.errs[i]
}

// Layer checks that name is a 4-D activation of the model and returns it.
// An unknown name gives an error wrapping ErrNoTensor that lists the
// candidates.
func (m *Model) Layer(ctx context.Context, name string) (Layer, error) {
	if !m.g.has(name) {
		return Layer{}, fmt.Errorf("model %s: %w", m.path, m.g.noTensor(name))
	}
	if p, err := m.runProbe(ctx); err == nil {
		for _, l := range p.layers {
			if l.Tensor == name {
				return l, nil
			}
		}
	}
	out, err := m.probeRun(ctx, []string{name})
	if err != nil {
		return Layer{}, err
	}
	shape := out[name]
	if len(shape) != 4 {
		return Layer{}, fmt.Errorf("model %s: tensor %q has shape %v; a CAM layer is a 4-D N×C×H×W activation", m.path, name, shape)
	}
	return Layer{Tensor: name, Channels: int(shape[1]), Height: int(shape[2]), Width: int(shape[3])}, nil
}

// probeRun runs one zero image with extra outputs in a throw-away session
// and returns every extra tensor's shape; values of constant tensors are
// kept in m's scratch map for head extraction.
func (m *Model) probeRun(ctx context.Context, extra []string) (map[string][]int64, error) {
	vals, err := m.probeValues(ctx, extra)
	if err != nil {
		return nil, err
	}
	shapes := map[string][]int64{}
	for k, v := range vals {
		shapes[k] = v.Shape
	}
	return shapes, nil
}

func (m *Model) probeValues(ctx context.Context, extra []string) (map[string]Tensor, error) {
	key := strings.Join(extra, "\x00")
	_, cached := m.sessions[key]
	c, h, w := m.InputShape()
	out, err := m.Run(ctx, make([]float32, c*h*w), 1, extra...)
	if !cached {
		if s, ok := m.sessions[key]; ok {
			s.release()
			delete(m.sessions, key)
		}
	}
	if err != nil {
		return nil, err
	}
	vals := map[string]Tensor{}
	for _, t := range out {
		vals[t.Name] = t
	}
	return vals, nil
}

func (m *Model) runProbe(ctx context.Context) (*probeResult, error) {
	if m.probe != nil {
		return m.probe, nil
	}
	pools := m.g.pools()
	plans := make([]headPlan, len(pools))
	var extra []string
	add := func(names ...string) {
		for _, n := range names {
			if n != "" && !slices.Contains(extra, n) {
				extra = append(extra, n)
			}
		}
	}
	for i, p := range pools {
		plans[i] = m.g.head(p.output)
		add(p.input, p.output)
		if plans[i].op != "" && plans[i].unsupportedWhy == "" {
			add(plans[i].weight, plans[i].bias)
		}
	}
	res := &probeResult{}
	if len(extra) == 0 {
		m.probe = res
		return res, nil
	}
	vals, err := m.probeValues(ctx, extra)
	if err != nil {
		return nil, fmt.Errorf("model %s: find target layers: %w", m.path, err)
	}
	for i, p := range pools {
		in, out := vals[p.input].Shape, vals[p.output].Shape
		if len(in) != 4 || !pooledToOne(out, in) {
			continue
		}
		l := Layer{Tensor: p.input, Pool: p.op, Pooled: p.output,
			Channels: int(in[1]), Height: int(in[2]), Width: int(in[3])}
		hd, herr := buildHead(plans[i], l, vals)
		res.layers = append(res.layers, l)
		res.heads = append(res.heads, hd)
		res.errs = append(res.errs, herr)
	}
	m.probe = res
	return res, nil
}

// pooledToOne reports whether the pooling output has one value per channel
// of the 4-D input: shape [N,C,1,1] or [N,C].
func pooledToOne(out, in []int64) bool {
	switch len(out) {
	case 4:
		return out[1] == in[1] && out[2] == 1 && out[3] == 1
	case 2:
		return out[1] == in[1]
	}
	return false
}

// buildHead turns a head plan and the probed constant values into a Head.
func buildHead(p headPlan, l Layer, vals map[string]Tensor) (Head, error) {
	if p.unsupportedWhy != "" {
		return Head{}, fmt.Errorf("onnx: classifier head after %s not supported: %s", l.Pooled, p.unsupportedWhy)
	}
	C := l.Channels
	if p.op == "" {
		w := make([]float32, C*C)
		for i := 0; i < C; i++ {
			w[i*C+i] = 1
		}
		return Head{Op: "identity", Output: p.output, Classes: C, Channels: C, Weight: w, Bias: make([]float32, C)}, nil
	}
	wt := vals[p.weight]
	if len(wt.Shape) != 2 {
		return Head{}, fmt.Errorf("onnx: head weight %q has shape %v, want 2-D", p.weight, wt.Shape)
	}
	rows, cols := int(wt.Shape[0]), int(wt.Shape[1])
	var K int
	w := make([]float32, rows*cols)
	switch {
	case p.op == "Gemm" && p.transB: // [K, C]
		K = rows
		if cols != C {
			return Head{}, fmt.Errorf("onnx: head weight %q is %v, want [classes, %d]", p.weight, wt.Shape, C)
		}
		for i, v := range wt.Data {
			w[i] = p.alpha * v
		}
	default: // [C, K]
		K = cols
		if rows != C {
			return Head{}, fmt.Errorf("onnx: head weight %q is %v, want [%d, classes]", p.weight, wt.Shape, C)
		}
		for c := 0; c < C; c++ {
			for k := 0; k < K; k++ {
				w[k*C+c] = p.alpha * wt.Data[c*K+k]
			}
		}
	}
	bias := make([]float32, K)
	if p.bias != "" {
		b := vals[p.bias].Data
		switch len(b) {
		case K:
			for k := range bias {
				bias[k] = p.beta * b[k]
			}
		case 1:
			for k := range bias {
				bias[k] = p.beta * b[0]
			}
		default:
			return Head{}, fmt.Errorf("onnx: head bias %q has %d values, want %d", p.bias, len(b), K)
		}
	}
	return Head{Op: p.op, Output: p.output, Classes: K, Channels: C, Weight: w, Bias: bias}, nil
}

// IsProbability reports whether the output tensor is produced by a Softmax
// (looking back through Identity, Reshape, Flatten and Squeeze), so its
// values are already class probabilities.
func (m *Model) IsProbability(output string) bool {
	t := output
	for steps := 0; steps < 8; steps++ {
		i, ok := m.g.producer[t]
		if !ok {
			return false
		}
		n := m.g.node(i)
		switch n.GetOpType() {
		case "Softmax":
			return true
		case "Identity", "Reshape", "Flatten", "Squeeze":
			if len(n.GetInput()) == 0 {
				return false
			}
			t = n.GetInput()[0]
		default:
			return false
		}
	}
	return false
}
