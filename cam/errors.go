package cam

import "errors"

var (
	// ErrShape reports a batch, activation, gradient or head whose sizes
	// do not agree, or a layer that is not 4-D.
	ErrShape = errors.New("cam: shape mismatch")
	// ErrClassRange reports a target class outside [0, K).
	ErrClassRange = errors.New("cam: class index out of range")
	// ErrTarget reports a malformed target specification.
	ErrTarget = errors.New("cam: bad target")
	// ErrNoHead reports that a method needs a global-average-pooling
	// linear head after the layer and the model has none (or is not a
	// HeadModel).
	ErrNoHead = errors.New("cam: layer does not feed a global-average-pooling linear head")
	// ErrNoGradients reports that a method needs gradients the model
	// cannot provide. Gradient-free methods (eigencam, scorecam,
	// occlusion) still work on such a model.
	ErrNoGradients = errors.New("cam: gradients unavailable")
	// ErrUnknownMethod reports a method name that is not registered.
	ErrUnknownMethod = errors.New("cam: unknown method")
)
