package onnx

import (
	"context"
	"errors"
	"fmt"

	"github.com/cutmixcam/cutmix-cam/cam"
)

// This file makes *Model satisfy the interfaces package cam consumes:
// cam.Model, cam.Scorer, cam.HeadModel, cam.GradientModel and
// cam.InputGradientModel.

// HeadOf returns the classifier head after the pooling of layer, a tensor
// reported by Layers; other tensors have no head (an error wrapping
// ErrNoLayer).
func (m *Model) HeadOf(ctx context.Context, layer string) (Head, error) {
	p, err := m.runProbe(ctx)
	if err != nil {
		return Head{}, err
	}
	for i, l := range p.layers {
		if l.Tensor == layer {
			return p.heads[i], p.errs[i]
		}
	}
	return Head{}, fmt.Errorf("%w: %q does not feed a global pooling followed by a head", ErrNoLayer, layer)
}

// camLayer resolves "" to the target layer and checks a named one.
func (m *Model) camLayer(ctx context.Context, layer string) (Layer, error) {
	if layer == "" {
		return m.TargetLayer(ctx)
	}
	l, err := m.Layer(ctx, layer)
	if err != nil && !errors.Is(err, ErrNoTensor) {
		return Layer{}, fmt.Errorf("%w: %w", cam.ErrShape, err)
	}
	return l, err
}

func (m *Model) checkBatch(b cam.Batch) error {
	c, h, w := m.InputShape()
	if b.C != c || b.H != h || b.W != w || b.N <= 0 || len(b.Data) != b.N*c*h*w {
		return fmt.Errorf("%w: batch %d×%d×%d×%d with %d values, model takes N×%d×%d×%d", cam.ErrShape, b.N, b.C, b.H, b.W, len(b.Data), c, h, w)
	}
	return nil
}

// scores returns the tensor holding the class scores before any final
// Softmax.
func (m *Model) scores() (string, error) {
	return m.g.scoresTensor(m.info.Outputs, "")
}

// Forward runs the batch and returns layer's activations ("" means the
// target layer) with the class scores taken before any final Softmax. It
// implements cam.Model.
func (m *Model) Forward(ctx context.Context, b cam.Batch, layer string) (cam.Activations, error) {
	if err := m.checkBatch(b); err != nil {
		return cam.Activations{}, err
	}
	l, err := m.camLayer(ctx, layer)
	if err != nil {
		return cam.Activations{}, err
	}
	scores, err := m.scores()
	if err != nil {
		return cam.Activations{}, err
	}
	out, err := m.Run(ctx, b.Data, b.N, l.Tensor, scores)
	if err != nil {
		return cam.Activations{}, err
	}
	var acts, logits Tensor
	for _, t := range out {
		switch t.Name {
		case l.Tensor:
			acts = t
		case scores:
			logits = t
		}
	}
	if logits.Name == "" && scores == l.Tensor {
		logits = acts
	}
	return cam.Activations{
		Acts: acts.Data, C: l.Channels, H: l.Height, W: l.Width,
		Logits: logits.Data, K: len(logits.Data) / b.N,
	}, nil
}

// Scores runs the batch and returns only the class scores (taken before
// any final Softmax), N×k. It implements cam.Scorer.
func (m *Model) Scores(ctx context.Context, b cam.Batch) ([]float32, int, error) {
	if err := m.checkBatch(b); err != nil {
		return nil, 0, err
	}
	scores, err := m.scores()
	if err != nil {
		return nil, 0, err
	}
	out, err := m.Run(ctx, b.Data, b.N, scores)
	if err != nil {
		return nil, 0, err
	}
	for _, t := range out {
		if t.Name == scores {
			return t.Data, len(t.Data) / b.N, nil
		}
	}
	return nil, 0, fmt.Errorf("onnx: run %s: no output %q", m.path, scores)
}

// LinearHead returns the global-average-pooling linear head after layer
// ("" means the target layer). It implements cam.HeadModel; a layer
// without such a head gives an error wrapping cam.ErrNoHead.
func (m *Model) LinearHead(ctx context.Context, layer string) (cam.Head, error) {
	l, err := m.camLayer(ctx, layer)
	if err != nil {
		return cam.Head{}, fmt.Errorf("%w: %w", cam.ErrNoHead, err)
	}
	h, err := m.HeadOf(ctx, l.Tensor)
	if err != nil {
		return cam.Head{}, fmt.Errorf("%w: %w", cam.ErrNoHead, err)
	}
	if l.Pool != "GlobalAveragePool" && l.Pool != "ReduceMean" && l.Pool != "AveragePool" {
		return cam.Head{}, fmt.Errorf("%w: %s is not average-pooled", cam.ErrNoHead, l.Tensor)
	}
	return cam.Head{Weight: h.Weight, Bias: h.Bias, Classes: h.Classes, Channels: h.Channels}, nil
}

// gradErr wraps gradient-graph errors for package cam.
func gradErr(err error) error {
	if errors.Is(err, ErrNoRule) || errors.Is(err, ErrIntegerPath) || errors.Is(err, ErrNotDependent) {
		return fmt.Errorf("%w: %w", cam.ErrNoGradients, err)
	}
	return err
}

// Gradients returns layer's activations ("" means the target layer) and
// the gradient of each image's target-class logit with respect to them,
// from the gradient graph. It implements cam.GradientModel.
func (m *Model) Gradients(ctx context.Context, b cam.Batch, layer string, targets []int) (cam.Activations, []float32, error) {
	if err := m.checkBatch(b); err != nil {
		return cam.Activations{}, nil, err
	}
	l, err := m.camLayer(ctx, layer)
	if err != nil {
		return cam.Activations{}, nil, err
	}
	g, err := m.Gradient(ctx, b.Data, b.N, GradRequest{Objective: Logit, Wrt: []string{l.Tensor}, Classes: targets})
	if err != nil {
		return cam.Activations{}, nil, gradErr(err)
	}
	K := len(g.Scores.Data) / b.N
	for _, t := range targets {
		if t >= K {
			return cam.Activations{}, nil, fmt.Errorf("%w: class %d of %d", cam.ErrClassRange, t, K)
		}
	}
	return cam.Activations{
		Acts: g.Values[0].Data, C: l.Channels, H: l.Height, W: l.Width,
		Logits: g.Scores.Data, K: K,
	}, g.Grads[0].Data, nil
}

// InputGradients returns the class scores and the gradient of each image's
// target-class logit with respect to the input batch. It implements
// cam.InputGradientModel.
func (m *Model) InputGradients(ctx context.Context, b cam.Batch, targets []int) ([]float32, []float32, error) {
	if err := m.checkBatch(b); err != nil {
		return nil, nil, err
	}
	g, err := m.Gradient(ctx, b.Data, b.N, GradRequest{Objective: Logit, Classes: targets})
	if err != nil {
		return nil, nil, gradErr(err)
	}
	return g.Scores.Data, g.Grads[0].Data, nil
}

// The interfaces package cam consumes.
var (
	_ cam.HeadModel          = (*Model)(nil)
	_ cam.Scorer             = (*Model)(nil)
	_ cam.GradientModel      = (*Model)(nil)
	_ cam.InputGradientModel = (*Model)(nil)
)
