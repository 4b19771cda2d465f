package onnx

import (
	"context"
	"fmt"

	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
	"github.com/cutmixcam/cutmix-cam/robust"
)

// Pixels runs a Model on [0, 1] pixel batches, applying the model's input
// normalisation first, so that attacks work in pixel space with the
// normalisation inside the differentiated path (as torchattacks and
// foolbox do). It implements robust.GradientModel. It shares the Model's
// concurrency rules.
type Pixels struct {
	// Model is the classifier.
	Model *Model
	// Norm is the normalisation the model expects (see package
	// preprocess).
	Norm preprocess.Norm
	// Output names the scores output when the model has several.
	Output string

	buf []float32
}

// normalize writes the model values of b into p.buf.
func (p *Pixels) normalize(b robust.Batch) ([]float32, error) {
	c, h, w := p.Model.InputShape()
	if b.C != c || b.H != h || b.W != w || b.N <= 0 || len(b.Data) != b.N*c*h*w {
		return nil, fmt.Errorf("%w: batch %d×%d×%d×%d, model takes N×%d×%d×%d", robust.ErrShape, b.N, b.C, b.H, b.W, c, h, w)
	}
	if cap(p.buf) < len(b.Data) {
		p.buf = make([]float32, len(b.Data))
	}
	out := p.buf[:len(b.Data)]
	plane := h * w
	for n := 0; n < b.N; n++ {
		for ch := 0; ch < c; ch++ {
			a, off := p.Norm.Affine(ch)
			src := b.Data[(n*c+ch)*plane : (n*c+ch+1)*plane]
			dst := out[(n*c+ch)*plane : (n*c+ch+1)*plane]
			for i, x := range src {
				dst[i] = a*x + off
			}
		}
	}
	return out, nil
}

// Logits returns the class scores (before any final Softmax) of a pixel
// batch.
func (p *Pixels) Logits(ctx context.Context, b robust.Batch) ([]float32, int, error) {
	x, err := p.normalize(b)
	if err != nil {
		return nil, 0, err
	}
	scores, err := p.Model.g.scoresTensor(p.Model.info.Outputs, p.Output)
	if err != nil {
		return nil, 0, err
	}
	out, err := p.Model.Run(ctx, x, b.N, scores)
	if err != nil {
		return nil, 0, err
	}
	for _, t := range out {
		if t.Name == scores {
			return t.Data, len(t.Data) / b.N, nil
		}
	}
	return nil, 0, fmt.Errorf("onnx: scores %q missing from the run", scores)
}

// LossGradient returns the scores and the gradient, with respect to the
// pixels, of the cross-entropy Σ_n CE(scores_n, labels[n]).
func (p *Pixels) LossGradient(ctx context.Context, b robust.Batch, labels []int) ([]float32, int, []float32, error) {
	x, err := p.normalize(b)
	if err != nil {
		return nil, 0, nil, err
	}
	g, err := p.Model.Gradient(ctx, x, b.N, GradRequest{Objective: CrossEntropy, Classes: labels, Output: p.Output})
	if err != nil {
		if e := gradErr(err); e != err {
			return nil, 0, nil, fmt.Errorf("%w: %w", robust.ErrNoGradients, err)
		}
		return nil, 0, nil, err
	}
	k := len(g.Scores.Data) / b.N
	for _, l := range labels {
		if l < 0 || l >= k {
			return nil, 0, nil, fmt.Errorf("onnx: label %d outside the model's %d classes", l, k)
		}
	}
	grad := g.Grads[0].Data
	c, h, w := p.Model.InputShape()
	plane := h * w
	for n := 0; n < b.N; n++ {
		for ch := 0; ch < c; ch++ {
			a, _ := p.Norm.Affine(ch)
			seg := grad[(n*c+ch)*plane : (n*c+ch+1)*plane]
			for i := range seg {
				seg[i] *= a
			}
		}
	}
	return g.Scores.Data, k, grad, nil
}

var _ robust.GradientModel = (*Pixels)(nil)
