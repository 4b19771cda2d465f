package onnx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/cutmixcam/cutmix-cam/onnx/onnxpb"
)

//go:generate go tool stringer -type=Device -linecomment

// Device selects where a Model runs.
type Device int

// Devices. The zero value is CPU.
const (
	CPU  Device = iota // cpu
	CUDA               // cuda
	Auto               // auto
)

// ParseDevice parses "cpu", "cuda" or "auto".
func ParseDevice(s string) (Device, error) {
	switch strings.ToLower(s) {
	case "cpu":
		return CPU, nil
	case "cuda":
		return CUDA, nil
	case "auto":
		return Auto, nil
	}
	return CPU, fmt.Errorf("onnx: unknown device %q; use cpu, cuda or auto", s)
}

// ErrNoCUDA reports that the CUDA execution provider could not be loaded.
var ErrNoCUDA = errors.New("onnx: CUDA execution provider unavailable")

// ErrNotImage reports a model whose input is not a float image tensor.
var ErrNotImage = errors.New("onnx: model input is not an image tensor")

// Options configure Open. The zero value runs on the CPU with ORT's default
// thread count.
type Options struct {
	// Device is CPU (default), CUDA, or Auto (CUDA when its provider
	// loads, else CPU; Model.Fallback says why CUDA was not used).
	Device Device
	// DeviceID is the CUDA device ordinal (default 0).
	DeviceID int
	// Threads is ORT's intra-op thread count; 0 lets ORT choose.
	Threads int
	// Size is the input height and width used where the model leaves them
	// dynamic; 0 means 224.
	Size int
	// GradCache is a directory that keeps built gradient graphs across
	// processes; "" (the default) keeps them in memory only. A graph missing
	// from memory is read from GradCache, or built and written there (one
	// file per model, input size, objective, targets and scores output,
	// replaced atomically, so concurrent processes may share the
	// directory). A damaged, stale or foreign file is rebuilt and
	// overwritten, never used. The directory is created on the first build;
	// if it cannot be created or written to, the gradient call fails with
	// an error naming it. A write that fails after the build (a full disk)
	// is ignored: the result is still correct, and the next build retries.
	GradCache string
}

// Tensor is one float32 model output.
type Tensor struct {
	// Name is the tensor name in the graph.
	Name string
	// Shape holds the dimensions, batch first.
	Shape []int64
	// Data holds the values in row-major order.
	Data []float32
}

// Model is an ONNX model with an ONNX Runtime session that is reused for
// every call. Sessions exposing extra intermediate tensors are built on first
// use and cached in the Model. A Model is not safe for concurrent use; open
// one Model per goroutine. Close releases its sessions.
type Model struct {
	path     string
	data     []byte
	hash     string
	g        *graph
	info     Info
	input    TensorInfo
	chw      [3]int
	batch    int // fixed batch size, 0 when dynamic
	opts     Options
	device   Device
	fallback error
	sessions map[string]*session
	probe    *probeResult
}

type session struct {
	s       *ort.DynamicAdvancedSession
	outputs []string
	runOpts *ort.RunOptions
	// bound holds output tensors from an earlier run, by batch rows, that
	// later runs of the same size write into instead of having ONNX Runtime
	// allocate.
	bound map[int][]ort.Value
}

// maxBound caps how many batch sizes keep pre-allocated outputs.
const maxBound = 4

// release destroys the session's ORT objects.
func (s *session) release() error {
	s.unbind()
	s.runOpts.Destroy()
	return s.s.Destroy()
}

func (s *session) unbind() {
	for rows, vs := range s.bound {
		for _, v := range vs {
			v.Destroy()
		}
		delete(s.bound, rows)
	}
}

// Open reads and checks the model at path and creates its ONNX Runtime
// session. The model must have exactly one float input of rank 4 (N, C, H,
// W) with C of 1 or 3. Init must have been called.
func Open(path string, opts Options) (*Model, error) {
	if !initialized() {
		return nil, ErrNotInitialized
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open model: %w", err)
	}
	pm, err := parseModel(data)
	if err != nil {
		if len(data) > 8 && string(data[1:4]) == "PNG" || len(data) > 3 && data[0] == 0xff && data[1] == 0xd8 {
			err = fmt.Errorf("%w: the file is an image, not a model", ErrNotONNX)
		}
		return nil, fmt.Errorf("open model %s: %w (truncated or not an .onnx file?)", path, err)
	}
	sum := sha256.Sum256(data)
	m := &Model{
		path:     path,
		data:     data,
		hash:     hex.EncodeToString(sum[:]),
		g:        newGraph(pm),
		opts:     opts,
		sessions: map[string]*session{},
	}
	m.info = m.g.info()
	if err := m.checkInput(); err != nil {
		return nil, fmt.Errorf("open model %s: %w", path, err)
	}
	if _, err := m.session(nil); err != nil {
		m.Close()
		return nil, fmt.Errorf("open model %s: %w", path, err)
	}
	return m, nil
}

func (m *Model) checkInput() error {
	ins := m.info.Inputs
	if len(ins) != 1 {
		names := make([]string, len(ins))
		for i, t := range ins {
			names[i] = t.String()
		}
		return fmt.Errorf("%w: the model has %d inputs (%s), an image classifier has one", ErrNotImage, len(ins), strings.Join(names, "; "))
	}
	in := ins[0]
	if in.Elem != "float" || len(in.Shape) != 4 || (in.Shape[1] != 1 && in.Shape[1] != 3) {
		return fmt.Errorf("%w: input is %s, want float[N,C,H,W] with C = 1 or 3", ErrNotImage, in)
	}
	m.input = in
	size := int64(m.opts.Size)
	if size <= 0 {
		size = 224
	}
	m.chw = [3]int{int(in.Shape[1]), int(size), int(size)}
	for k := 2; k < 4; k++ {
		if in.Shape[k] > 0 {
			m.chw[k-1] = int(in.Shape[k])
		}
	}
	if in.Shape[0] > 0 {
		m.batch = int(in.Shape[0])
	}
	return nil
}

// newSessionOptions builds ORT options for the requested device, falling
// back to the CPU for Auto.
func (m *Model) newSessionOptions() (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("onnx: session options: %w", err)
	}
	if m.opts.Threads > 0 {
		if err := so.SetIntraOpNumThreads(m.opts.Threads); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("onnx: threads %d: %w", m.opts.Threads, err)
		}
	}
	m.device = CPU
	if m.opts.Device == CUDA || m.opts.Device == Auto {
		if err := appendCUDA(so, m.opts.DeviceID); err != nil {
			if m.opts.Device == CUDA {
				so.Destroy()
				return nil, err
			}
			m.fallback = err
		} else {
			m.device = CUDA
		}
	}
	return so, nil
}

func appendCUDA(so *ort.SessionOptions, id int) error {
	fail := func(err error) error {
		return fmt.Errorf("%w (device %d): %s; install the GPU build of ONNX Runtime %s with CUDA and cuDNN and point %s at it, or use --device cpu", ErrNoCUDA, id, shortORT(err), RuntimeVersion, LibraryEnv)
	}
	co, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return fail(err)
	}
	defer co.Destroy()
	if err := co.Update(map[string]string{"device_id": strconv.Itoa(id)}); err != nil {
		return fail(err)
	}
	if err := so.AppendExecutionProviderCUDA(co); err != nil {
		return fail(err)
	}
	return nil
}

// ortMessage matches the source-location prefix of ONNX Runtime errors.
var ortMessage = regexp.MustCompile(`^(?s).*\[ONNXRuntimeError\] : \d+ : \w+ : `)

// shortORT drops the C++ source location from an ONNX Runtime error.
func shortORT(err error) string {
	msg := ortMessage.ReplaceAllString(err.Error(), "")
	if i := strings.Index(msg, " with error: "); i >= 0 {
		msg = msg[:i] // the loader repeats the path and reason
	}
	return msg
}

// session returns the cached session that outputs the graph outputs plus
// extra, building it on first use.
func (m *Model) session(extra []string) (*session, error) {
	key := strings.Join(extra, "\x00")
	if s, ok := m.sessions[key]; ok {
		return s, nil
	}
	outputs := make([]string, 0, len(m.info.Outputs)+len(extra))
	for _, o := range m.info.Outputs {
		outputs = append(outputs, o.Name)
	}
	for _, e := range extra {
		if !slices.Contains(outputs, e) {
			outputs = append(outputs, e)
		}
	}
	so, err := m.newSessionOptions()
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	inputs := []string{m.input.Name}
	var s *ort.DynamicAdvancedSession
	if len(extra) == 0 {
		s, err = ort.NewDynamicAdvancedSession(m.path, inputs, outputs, so)
	} else {
		var data []byte
		data, err = m.g.withOutputs(extra)
		if err != nil {
			return nil, err
		}
		s, err = ort.NewDynamicAdvancedSessionWithONNXData(data, inputs, outputs, so)
	}
	if err != nil {
		if m.device == CUDA && m.opts.Device == Auto {
			// The provider registered but the session could not use it.
			m.fallback = fmt.Errorf("%w: %w", ErrNoCUDA, err)
			m.opts.Device = CPU
			return m.session(extra)
		}
		return nil, fmt.Errorf("onnx: create session: %w", err)
	}
	ro, err := ort.NewRunOptions()
	if err != nil {
		s.Destroy()
		return nil, fmt.Errorf("onnx: run options: %w", err)
	}
	ss := &session{s: s, outputs: outputs, runOpts: ro, bound: map[int][]ort.Value{}}
	m.sessions[key] = ss
	return ss, nil
}

// Close releases the model's sessions. It is idempotent.
func (m *Model) Close() error {
	var errs []error
	for k, s := range m.sessions {
		if err := s.release(); err != nil {
			errs = append(errs, err)
		}
		delete(m.sessions, k)
	}
	return errors.Join(errs...)
}

// Path returns the file the model was read from.
func (m *Model) Path() string { return m.path }

// SHA256 returns the hex SHA-256 of the model file.
func (m *Model) SHA256() string { return m.hash }

// Info returns the model's metadata.
func (m *Model) Info() Info { return m.info }

// Proto returns the decoded model. It is shared with the Model: callers must
// not modify it.
func (m *Model) Proto() *onnxpb.ModelProto { return m.g.m }

// Device returns the device the sessions run on.
func (m *Model) Device() Device { return m.device }

// Fallback returns why Auto did not use CUDA, or nil.
func (m *Model) Fallback() error { return m.fallback }

// InputShape returns the channels, height and width the model takes (a
// dynamic height or width is Options.Size).
func (m *Model) InputShape() (c, h, w int) { return m.chw[0], m.chw[1], m.chw[2] }

// BatchSize returns the model's fixed batch size, or 0 when it is dynamic.
func (m *Model) BatchSize() int { return m.batch }

// Tensors returns the names of every tensor a node writes, in graph order.
func (m *Model) Tensors() []string { return m.g.tensorNames() }

// Run evaluates the model on n images in input, a float32 N×C×H×W batch
// matching InputShape, and returns the graph outputs followed by the extra
// tensors requested (each with batch size n). Models with a fixed batch size
// run in chunks of that size, the last chunk zero-padded. ctx cancels a run
// in progress.
func (m *Model) Run(ctx context.Context, input []float32, n int, extra ...string) ([]Tensor, error) {
	c, h, w := m.InputShape()
	per := c * h * w
	if n <= 0 || len(input) != n*per {
		return nil, fmt.Errorf("onnx: run %s: input has %d values, want %d images × %d×%d×%d", m.path, len(input), n, c, h, w)
	}
	s, err := m.session(extra)
	if err != nil {
		return nil, err
	}
	chunk := n
	if m.batch > 0 {
		chunk = m.batch
	}
	out := make([]Tensor, len(s.outputs))
	var pad []float32
	for start := 0; start < n; start += chunk {
		k := min(chunk, n-start)
		src := input[start*per : (start+k)*per]
		if m.batch > 0 && k < chunk {
			if pad == nil {
				pad = make([]float32, chunk*per)
			}
			copy(pad, src)
			clear(pad[len(src):])
			src = pad
		}
		rows := chunk
		if m.batch == 0 {
			rows = k
		}
		vals, err := m.runOnce(ctx, s, src, rows)
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			if i >= len(out) {
				break
			}
			shape := v.shape
			if len(shape) > 0 && shape[0] == int64(rows) {
				per := len(v.data) / rows
				if start == 0 && k == n {
					out[i].Data = v.data[:k*per] // one chunk: no copy
				} else {
					out[i].Data = append(out[i].Data, v.data[:k*per]...)
				}
				if out[i].Shape == nil {
					out[i].Shape = slices.Clone(shape)
				}
				out[i].Shape[0] = int64(start + k)
			} else if out[i].Data == nil {
				// Not batched (e.g. a constant output): keep the first.
				out[i].Data, out[i].Shape = v.data, shape
			}
			out[i].Name = s.outputs[i]
		}
	}
	return out, nil
}

type value struct {
	shape []int64
	data  []float32
}

// runOnce runs one batch of rows images through s.
func (m *Model) runOnce(ctx context.Context, s *session, src []float32, rows int) ([]value, error) {
	c, h, w := m.InputShape()
	in, err := ort.NewTensor(ort.NewShape(int64(rows), int64(c), int64(h), int64(w)), src)
	if err != nil {
		return nil, fmt.Errorf("onnx: input tensor: %w", err)
	}
	defer in.Destroy()
	outs, reused := s.bound[rows]
	if reused {
		if err := m.runSession(ctx, s, in, outs); err == nil || ctx.Err() != nil {
			return copyOut(outs), err
		}
		// Shapes changed under us: drop the bound outputs and let ORT
		// allocate.
		s.unbind()
	}
	outs = make([]ort.Value, len(s.outputs))
	keep := false
	defer func() {
		if keep {
			return
		}
		for _, o := range outs {
			if o != nil {
				o.Destroy()
			}
		}
	}()
	if err := m.runSession(ctx, s, in, outs); err != nil {
		return nil, err
	}
	vals := make([]value, len(outs))
	allFloat := true
	for i, o := range outs {
		switch t := o.(type) {
		case *ort.Tensor[float32]:
			vals[i] = value{shape: t.GetShape(), data: t.GetData()}
		case *ort.Tensor[float64]:
			allFloat = false
			d := t.GetData()
			f := make([]float32, len(d))
			for j, x := range d {
				f[j] = float32(x)
			}
			vals[i] = value{shape: t.GetShape(), data: f}
		default:
			return nil, fmt.Errorf("onnx: run %s: output %q is %v, only float outputs are supported", m.path, s.outputs[i], o.GetONNXType())
		}
	}
	if allFloat {
		if len(s.bound) >= maxBound {
			s.unbind()
		}
		// Keep these tensors for the next run of this size; hand the caller
		// copies.
		s.bound[rows] = outs
		keep = true
		return copyOut(outs), nil
	}
	return vals, nil
}

// copyOut copies float32 output tensors into fresh slices.
func copyOut(outs []ort.Value) []value {
	vals := make([]value, len(outs))
	for i, o := range outs {
		t := o.(*ort.Tensor[float32])
		vals[i] = value{shape: slices.Clone(t.GetShape()), data: slices.Clone(t.GetData())}
	}
	return vals
}

// runSession runs s once, letting ctx terminate the run.
func (m *Model) runSession(ctx context.Context, s *session, in ort.Value, outs []ort.Value) error {
	var err error
	if done := ctx.Done(); done != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.runOpts.UnsetTerminate()
		finished := make(chan struct{})
		go func() {
			select {
			case <-done:
				s.runOpts.Terminate()
			case <-finished:
			}
		}()
		err = s.s.RunWithOptions([]ort.Value{in}, outs, s.runOpts)
		close(finished)
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
	} else {
		err = s.s.Run([]ort.Value{in}, outs)
	}
	if err != nil {
		return fmt.Errorf("onnx: run %s: %w", m.path, err)
	}
	return nil
}
