package cutmix

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers branch on them with errors.Is; the errors
// returned by this package wrap them with the operation and operand.
var (
	// ErrAlpha reports a Beta parameter that is not positive and finite.
	ErrAlpha = errors.New("cutmix: alpha must be positive and finite")
	// ErrEmpty reports an image or batch with no pixels.
	ErrEmpty = errors.New("cutmix: empty image")
	// ErrChannels reports a partner whose channel count differs from the
	// target's.
	ErrChannels = errors.New("cutmix: channel count mismatch")
	// ErrShape reports buffers whose lengths do not match their shape.
	ErrShape = errors.New("cutmix: shape mismatch")
	// ErrBoxTooLarge reports a fixed box or probe square larger than the
	// image.
	ErrBoxTooLarge = errors.New("cutmix: box larger than the image")
	// ErrUnknown reports an unknown method, mode, partner, fill or other
	// enum name or value.
	ErrUnknown = errors.New("cutmix: unknown name")
	// ErrOption reports a Sampler or Probe field out of its documented range.
	ErrOption = errors.New("cutmix: invalid option")
	// ErrPair reports a pairing that ModePair cannot use: an odd batch or
	// PartnerRoll.
	ErrPair = errors.New("cutmix: cannot pair batch")
	// ErrSources reports too few probe sources (at least two are needed).
	ErrSources = errors.New("cutmix: need at least two sources")
	// ErrClass reports a class index outside [0, numClasses).
	ErrClass = errors.New("cutmix: class out of range")
)

// ShapeError reports a batch buffer or image whose shape does not match
// what the operation needs. It unwraps to Err, which is ErrShape,
// ErrChannels or ErrEmpty. It is not modified after it is returned, so it
// is safe to share.
type ShapeError struct {
	Op   string // operation, such as "apply" or "mix"
	What string // operand, such as "src" or "partner"
	Got  Shape  // shape found
	Want Shape  // shape required
	Err  error  // sentinel
}

// Error implements error.
func (e *ShapeError) Error() string {
	return fmt.Sprintf("%s %s: got %v, want %v: %v", e.Op, e.What, e.Got, e.Want, e.Err)
}

// Unwrap returns e.Err.
func (e *ShapeError) Unwrap() error { return e.Err }
