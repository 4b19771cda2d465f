package robust

import "errors"

// Sentinel errors. Callers branch on them with errors.Is; the errors this
// package returns wrap them with the operation and operand.
var (
	// ErrEpsilon reports an ε (or PGD step size) outside (0, 1], or one
	// that does not parse.
	ErrEpsilon = errors.New("robust: epsilon must be in (0, 1]")
	// ErrSteps reports a PGD step count below 1.
	ErrSteps = errors.New("robust: steps must be at least 1")
	// ErrNoLabels reports data without ground-truth labels: every
	// evaluation compares predictions with labels, so labels are needed.
	ErrNoLabels = errors.New("robust: labels are needed")
	// ErrEmpty reports a dataset or batch with no images or no pixels.
	ErrEmpty = errors.New("robust: no images")
	// ErrShape reports buffers whose lengths disagree with their shape, or
	// a model answer of the wrong length.
	ErrShape = errors.New("robust: shape mismatch")
	// ErrPixel reports a pixel value outside [0, 1] (or NaN) in the data.
	ErrPixel = errors.New("robust: pixel value outside [0, 1]")
	// ErrNoGradients reports a model that cannot differentiate its loss
	// with respect to the input: it is not a GradientModel, or its
	// LossGradient failed for want of a differentiable path (the adapter
	// wraps this sentinel and names the operator). Occlusion and the
	// in-between probes need only Logits and still run.
	ErrNoGradients = errors.New("robust: input gradients unavailable")
	// ErrGradient reports a gradient holding NaN or ±Inf, whose sign is
	// undefined.
	ErrGradient = errors.New("robust: non-finite gradient")
	// ErrClass reports a label or target outside [0, K).
	ErrClass = errors.New("robust: class out of range")
	// ErrClasses reports in-between probes on data with a single class, or
	// a targeted attack on a model with a single class.
	ErrClasses = errors.New("robust: need at least two classes")
	// ErrOption reports a configuration field out of its documented range
	// or an unknown enum name.
	ErrOption = errors.New("robust: invalid option")
)
