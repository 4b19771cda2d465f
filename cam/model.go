package cam

import (
	"context"
	"fmt"
)

// Batch is a float32 N×C×H×W model input, row-major: element (n, c, y, x)
// is Data[((n*C+c)*H+y)*W+x]. It holds the preprocessed tensor the model
// consumes (after resizing and normalisation), not raw pixels.
//
// A Batch is a plain value; methods in this package never modify Data,
// so one Batch may be shared by concurrent calls.
type Batch struct {
	Data       []float32
	N, C, H, W int
}

// image returns the C×H×W slice of image n.
func (b Batch) image(n int) []float32 {
	s := b.C * b.H * b.W
	return b.Data[n*s : (n+1)*s]
}

func (b Batch) check() error {
	if b.N <= 0 || b.C <= 0 || b.H <= 0 || b.W <= 0 {
		return fmt.Errorf("%w: batch %d×%d×%d×%d", ErrShape, b.N, b.C, b.H, b.W)
	}
	if len(b.Data) != b.N*b.C*b.H*b.W {
		return fmt.Errorf("%w: batch %d×%d×%d×%d holds %d values", ErrShape, b.N, b.C, b.H, b.W, len(b.Data))
	}
	return nil
}

// Activations is one forward pass of an N-image batch: the target layer's
// activations and the class scores.
//
// Acts is N×C×H×W row-major (element (n, c, y, x) at ((n*C+c)*H+y)*W+x).
// Logits is N×K: the model's raw class scores (before any softmax), the
// values the gradient methods differentiate (pytorch-grad-cam's
// ClassifierOutputTarget). An Activations is a plain value owned by the
// caller that received it.
type Activations struct {
	Acts    []float32
	C, H, W int
	Logits  []float32
	K       int
}

// check validates the lengths against n images. needActs is false when only
// the logits are used.
func (a Activations) check(n int, needActs bool) error {
	if a.K <= 0 || len(a.Logits) != n*a.K {
		return fmt.Errorf("%w: %d logits for %d images of %d classes", ErrShape, len(a.Logits), n, a.K)
	}
	if !needActs {
		return nil
	}
	if a.C <= 0 || a.H <= 0 || a.W <= 0 || len(a.Acts) != n*a.C*a.H*a.W {
		return fmt.Errorf("%w: %d activations for %d images of %d×%d×%d", ErrShape, len(a.Acts), n, a.C, a.H, a.W)
	}
	return nil
}

// image returns the C×H×W activations of image n.
func (a Activations) image(n int) []float32 {
	s := a.C * a.H * a.W
	return a.Acts[n*s : (n+1)*s]
}

// logits returns the K scores of image n.
func (a Activations) logits(n int) []float32 { return a.Logits[n*a.K : (n+1)*a.K] }

// Model runs a classifier and returns the named layer's activations with
// the scores.
//
// Compute calls a Model only from its own goroutine, so a Model need not
// be safe for concurrent use. layer names the target tensor; the empty string asks the model to choose
// its own (auto-detected) layer. The layer must be 4-D (N×C×H×W); a model
// returns an error wrapping ErrShape otherwise. Forward must not retain
// b.Data after it returns.
type Model interface {
	Forward(ctx context.Context, b Batch, layer string) (Activations, error)
}

// Scorer is a Model that can also return the class scores of a batch alone
// (N×k, row-major), without fetching a layer's activations. Compute uses it
// wherever only scores are needed: the masked forward passes of Score-CAM
// and occlusion, and resolving top-k targets. Scores must not retain
// b.Data after it returns.
type Scorer interface {
	Scores(ctx context.Context, b Batch) (logits []float32, k int, err error)
}

// Head is a global-average-pooling → linear classifier head:
//
//	scores[k] = Σ_c Weight[k*Channels+c] · mean_{y,x} acts[c,y,x] + Bias[k]
//
// Weight is Classes×Channels row-major; Bias has Classes entries or is nil
// (zero). A Head is a plain value; Compute only reads it.
type Head struct {
	Weight, Bias      []float32
	Classes, Channels int
}

func (h Head) check(c, k int) error {
	if h.Channels != c || h.Classes != k || len(h.Weight) != c*k || (h.Bias != nil && len(h.Bias) != k) {
		return fmt.Errorf("%w: head %d×%d (weight %d, bias %d) for %d channels and %d classes",
			ErrShape, h.Classes, h.Channels, len(h.Weight), len(h.Bias), c, k)
	}
	return nil
}

// HeadModel is a Model whose target layer feeds a global-average-pooling
// linear head. LinearHead returns an error wrapping ErrNoHead when the
// named layer does not feed such a head directly (anything but GAP,
// flatten and one Gemm/MatMul(+Add) between the layer and the scores).
type HeadModel interface {
	Model
	LinearHead(ctx context.Context, layer string) (Head, error)
}

// GradientModel is a Model that can differentiate: Gradients returns the
// forward pass and, N×C×H×W like Acts, the gradient of each image's target
// class score (logit) targets[n] with respect to the layer's activations.
// It returns an error wrapping ErrNoGradients when the graph between the
// layer and the scores holds an operator it cannot differentiate.
type GradientModel interface {
	Model
	Gradients(ctx context.Context, b Batch, layer string, targets []int) (Activations, []float32, error)
}

// InputGradientModel differentiates each image's target class score
// (logit) targets[n] with respect to the input batch, for saliency,
// SmoothGrad and Integrated Gradients. grads has the layout of b.Data and
// logits is N×K. It returns an error wrapping ErrNoGradients when it
// cannot differentiate the graph.
type InputGradientModel interface {
	Model
	InputGradients(ctx context.Context, b Batch, targets []int) (logits []float32, grads []float32, err error)
}
