package robust

import (
	"context"
	"fmt"
	"math"
)

// Batch is a float32 N×C×H×W batch of pixel values in [0, 1], row-major:
// element (n, c, y, x) is Data[((n*C+c)*H+y)*W+x]. It holds pixels before
// the model's normalisation; the Model normalises (see Model).
//
// A Batch is a plain value. Functions in this package never modify the
// Data of a Batch they are given and return batches with fresh Data.
type Batch struct {
	Data       []float32
	N, C, H, W int
}

// image returns the C×H×W slice of image n.
func (b Batch) image(n int) []float32 {
	s := b.C * b.H * b.W
	return b.Data[n*s : (n+1)*s]
}

func (b Batch) check(op string) error {
	if b.N <= 0 || b.C <= 0 || b.H <= 0 || b.W <= 0 {
		return fmt.Errorf("%s: batch %dx%dx%dx%d: %w", op, b.N, b.C, b.H, b.W, ErrEmpty)
	}
	if len(b.Data) != b.N*b.C*b.H*b.W {
		return fmt.Errorf("%s: batch %dx%dx%dx%d holds %d values: %w", op, b.N, b.C, b.H, b.W, len(b.Data), ErrShape)
	}
	return nil
}

// checkPixels reports the first value outside [0, 1] or NaN.
func checkPixels(op string, px []float32) error {
	for i, v := range px {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("%s: value %v at %d: %w", op, v, i, ErrPixel)
		}
	}
	return nil
}

// Model classifies pixel-space batches.
//
// Logits returns the N×K raw class scores (before any softmax), row-major,
// and K. The batch holds pixels in [0, 1]; the model applies its own
// normalisation, logits = f((x − mean)/std), so ε and every perturbation in
// this package are in pixel units (torchattacks' set_normalization_used,
// foolbox's preprocessing). The returned slice belongs to the caller.
//
// This package calls a Model from one goroutine at a time, so it need not
// be safe for concurrent use. A Model must not modify b.Data nor retain it
// after returning: the evaluations reuse their buffers.
type Model interface {
	Logits(ctx context.Context, b Batch) (logits []float32, k int, err error)
}

// GradientModel is a Model that can also differentiate the cross-entropy
// loss with respect to its input pixels.
//
// LossGradient returns the logits of b, as Logits does, and the gradient
// with respect to the pixels b.Data (same layout and length) of
//
//	L = Σ_n CE(f(x_n), labels[n]) = Σ_n −log softmax(f(x_n))[labels[n]]
//
// summed over the batch, so that sample n's gradient is its own loss's
// gradient (samples are independent in inference mode). A model that
// normalises its input inside computes it as ∂L/∂x = (∂L/∂x̂)/std, x̂ being
// the normalised input. Targeted attacks pass the target classes as
// labels and step downhill. The mean over the batch (torchattacks) only
// scales the gradient by 1/N, which a sign step ignores.
//
// The labels come from the caller's data and are not checked against K
// beforehand: a model given a label outside [0, K) returns an error.
// When the model has no differentiable path from input to loss,
// LossGradient returns an error wrapping ErrNoGradients that names the
// operator. The other rules of Model apply.
type GradientModel interface {
	Model
	LossGradient(ctx context.Context, b Batch, labels []int) (logits []float32, k int, grad []float32, err error)
}

// logits calls m.Logits and checks the answer's length.
func logits(ctx context.Context, m Model, b Batch) ([]float32, int, error) {
	l, k, err := m.Logits(ctx, b)
	if err != nil {
		return nil, 0, err
	}
	if k <= 0 || len(l) != b.N*k {
		return nil, 0, fmt.Errorf("model returned %d logits of %d classes for %d images: %w", len(l), k, b.N, ErrShape)
	}
	return l, k, nil
}

// lossGradient calls m.LossGradient and checks the answer.
func lossGradient(ctx context.Context, m GradientModel, b Batch, labels []int) ([]float32, int, []float32, error) {
	l, k, g, err := m.LossGradient(ctx, b, labels)
	if err != nil {
		return nil, 0, nil, err
	}
	if k <= 0 || len(l) != b.N*k {
		return nil, 0, nil, fmt.Errorf("model returned %d logits of %d classes for %d images: %w", len(l), k, b.N, ErrShape)
	}
	if len(g) != len(b.Data) {
		return nil, 0, nil, fmt.Errorf("model returned a gradient of %d values for %d pixels: %w", len(g), len(b.Data), ErrShape)
	}
	for i, v := range g {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, 0, nil, fmt.Errorf("gradient value %v at %d: %w", v, i, ErrGradient)
		}
	}
	return l, k, g, nil
}

// argmax returns the index of the first largest value of row (NaN never
// wins unless every value is NaN, when it returns 0).
func argmax(row []float32) int {
	best := 0
	for j := 1; j < len(row); j++ {
		if row[j] > row[best] || (row[best] != row[best] && row[j] == row[j]) {
			best = j
		}
	}
	return best
}

// argmin returns the index of the first smallest value of row.
func argmin(row []float32) int {
	best := 0
	for j := 1; j < len(row); j++ {
		if row[j] < row[best] || (row[best] != row[best] && row[j] == row[j]) {
			best = j
		}
	}
	return best
}
