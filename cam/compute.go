package cam

import (
	"context"
	"errors"
	"fmt"
)

// Method computes raw maps for a batch. The registry (Lookup, Names) maps
// CLI names to Methods; methods with settings are structs whose zero value
// is the documented default.
//
// Every Method in this package is a value type without state and is safe
// for concurrent use; the Model passed to Compute need not be.
type Method interface {
	// Name returns the registry name, e.g. "gradcam".
	Name() string
	compute(ctx context.Context, m Model, b Batch, o *Options) ([]Result, error)
}

// Options configures Compute; Compute copies it. The zero value explains the top-1 class at
// the model's auto-detected layer, with the closed-form gradient when the
// model has a linear head.
type Options struct {
	// Layer names the target layer; "" lets the model choose (auto).
	// Occlusion and the input attributions ignore it except to pass it
	// to Forward.
	Layer string
	// Target selects the classes; the zero value is top-1.
	Target Target
	// ForceGradients makes the gradient family call GradientModel even
	// when the model is a HeadModel whose closed form is exact.
	ForceGradients bool
	// Progress, if non-nil, is called after each model call with the
	// number of calls done and the total planned. It is called from the
	// goroutine running Compute.
	Progress func(done, total int)
}

func (o *Options) progress(done, total int) {
	if o.Progress != nil {
		o.Progress(done, total)
	}
}

// Result is one map: image Image of the batch explained for class Class.
// Each Result owns its Map.
type Result struct {
	// Image is the index of the image in the batch.
	Image int
	// Class is the explained class.
	Class int
	// Score is the class's logit on the unperturbed image.
	Score float32
	// Map is the raw map, not normalised: at the layer's resolution for
	// the activation methods (CAM family, Score-CAM, Ablation-CAM,
	// Eigen-CAM) and at the input resolution for occlusion and the input
	// attributions. Use Scoremap to resize and normalise it.
	Map Map
}

// Compute runs method on the batch and returns one Result per image and
// target class, image-major: results[n*k+j] is image n's j-th class,
// where k classes are explained per image (1 unless the target is TopK).
func Compute(ctx context.Context, m Model, b Batch, method Method, opt Options) ([]Result, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	rs, err := method.compute(ctx, m, b, &opt)
	if err != nil {
		return nil, fmt.Errorf("compute %s: %w", method.Name(), err)
	}
	return rs, nil
}

// forward runs the model and validates the result.
func forward(ctx context.Context, m Model, b Batch, layer string, needActs bool) (Activations, error) {
	if err := ctx.Err(); err != nil {
		return Activations{}, err
	}
	var fw Activations
	var err error
	if sc, ok := m.(Scorer); ok && !needActs {
		fw.Logits, fw.K, err = sc.Scores(ctx, b)
	} else {
		fw, err = m.Forward(ctx, b, layer)
	}
	if err != nil {
		return Activations{}, err
	}
	if err := fw.check(b.N, needActs); err != nil {
		return Activations{}, err
	}
	return fw, nil
}

// linearHead returns the layer's head, or an error wrapping ErrNoHead.
func linearHead(ctx context.Context, m Model, layer string, fw Activations) (Head, error) {
	hm, ok := m.(HeadModel)
	if !ok {
		return Head{}, ErrNoHead
	}
	h, err := hm.LinearHead(ctx, layer)
	if err != nil {
		return Head{}, err
	}
	if err := h.check(fw.C, fw.K); err != nil {
		return Head{}, err
	}
	return h, nil
}

// gradFunc writes into dst (h×w) the raw map of one image from its
// activations a and gradients g, both c×h×w.
type gradFunc func(dst []float64, a, g []float32, c, h, w int)

// headGradient writes into g (c×hw) the exact gradient of score k of a
// GAP→linear head with respect to the activations:
// ∂score_k/∂A[c,y,x] = W[k,c] / (H·W), the same at every position.
func headGradient(g []float32, hd Head, k, hw int) {
	c := hd.Channels
	row := hd.Weight[k*c : (k+1)*c]
	inv := 1 / float64(hw)
	for ch, wk := range row {
		v := float32(float64(wk) * inv)
		s := g[ch*hw : (ch+1)*hw]
		for i := range s {
			s[i] = v
		}
	}
}

// computeGrad runs a gradient-family method: closed form from the head
// when the model has one (unless forced), else the model's gradients.
func computeGrad(ctx context.Context, m Model, b Batch, o *Options, f gradFunc) ([]Result, error) {
	_, isHead := m.(HeadModel)
	if isHead && !o.ForceGradients {
		fw, err := forward(ctx, m, b, o.Layer, true)
		if err != nil {
			return nil, err
		}
		hd, err := linearHead(ctx, m, o.Layer, fw)
		switch {
		case err == nil:
			o.progress(1, 1)
			return gradFromHead(b, o, fw, hd, f)
		case !errors.Is(err, ErrNoHead):
			return nil, err
		}
	}
	gm, ok := m.(GradientModel)
	if !ok {
		return nil, fmt.Errorf("%w: the model has neither gradients nor a linear head at the layer", ErrNoGradients)
	}
	return gradFromModel(ctx, gm, b, o, f)
}

func gradFromHead(b Batch, o *Options, fw Activations, hd Head, f gradFunc) ([]Result, error) {
	targets, err := o.Target.resolve(b.N, fw.K, fw.Logits)
	if err != nil {
		return nil, err
	}
	c, h, w := fw.C, fw.H, fw.W
	g := make([]float32, c*h*w)
	var rs []Result
	for n, cls := range targets {
		a := fw.image(n)
		for _, k := range cls {
			headGradient(g, hd, k, h*w)
			mp := NewMap(w, h)
			f(mp.V, a, g, c, h, w)
			rs = append(rs, Result{Image: n, Class: k, Score: fw.logits(n)[k], Map: mp})
		}
	}
	return rs, nil
}

func gradFromModel(ctx context.Context, gm GradientModel, b Batch, o *Options, f gradFunc) ([]Result, error) {
	targets, k, err := resolveTargets(ctx, gm, b, o)
	if err != nil {
		return nil, err
	}
	rounds := len(targets[0])
	rs := make([]Result, b.N*rounds)
	tg := make([]int, b.N)
	for r := range rounds {
		for n := range tg {
			tg[n] = targets[n][r]
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fw, g, err := gm.Gradients(ctx, b, o.Layer, tg)
		if err != nil {
			return nil, err
		}
		if err := fw.check(b.N, true); err != nil {
			return nil, err
		}
		if len(g) != len(fw.Acts) {
			return nil, fmt.Errorf("%w: %d gradients for %d activations", ErrShape, len(g), len(fw.Acts))
		}
		if k < 0 {
			if err := checkRange(tg, fw.K); err != nil {
				return nil, err
			}
		}
		c, h, w := fw.C, fw.H, fw.W
		s := c * h * w
		for n, cls := range tg {
			mp := NewMap(w, h)
			f(mp.V, fw.image(n), g[n*s:(n+1)*s], c, h, w)
			rs[n*rounds+r] = Result{Image: n, Class: cls, Score: fw.logits(n)[cls], Map: mp}
		}
		o.progress(r+1, rounds)
	}
	return rs, nil
}

// resolveTargets returns the classes per image. For a top-k target it runs
// a logits-only forward pass and returns K; for a fixed target it runs
// nothing, checks only the sign and returns k = -1: the caller checks the
// range once K is known (a gradient model also rejects such classes).
func resolveTargets(ctx context.Context, m Model, b Batch, o *Options) ([][]int, int, error) {
	if o.Target.needsScores() {
		fw, err := forward(ctx, m, b, o.Layer, false)
		if err != nil {
			return nil, 0, err
		}
		t, err := o.Target.resolve(b.N, fw.K, fw.Logits)
		return t, fw.K, err
	}
	if o.Target.kind == targetPerImage && len(o.Target.classes) != b.N {
		return nil, 0, fmt.Errorf("%w: %d classes for %d images", ErrTarget, len(o.Target.classes), b.N)
	}
	tg := provisional(o.Target, b.N)
	if err := checkRange(tg, -1); err != nil {
		return nil, 0, err
	}
	out := make([][]int, b.N)
	for n, c := range tg {
		out[n] = []int{c}
	}
	return out, -1, nil
}

// provisional returns the classes of a target that does not depend on the
// scores (Class or PerImage), unchecked against K.
func provisional(t Target, n int) []int {
	tg := make([]int, n)
	switch t.kind {
	case targetClass:
		for i := range tg {
			tg[i] = t.classes[0]
		}
	case targetPerImage:
		copy(tg, t.classes)
	}
	return tg
}

// checkRange checks classes against [0, k); k < 0 checks only the sign.
func checkRange(tg []int, k int) error {
	for n, c := range tg {
		if c < 0 || (k >= 0 && c >= k) {
			return fmt.Errorf("%w: class %d for image %d (%d classes)", ErrClassRange, c, n, k)
		}
	}
	return nil
}
