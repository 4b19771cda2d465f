package cam

import (
	"math"

	"github.com/cutmixcam/cutmix-cam/internal/resample"
)

// Map is a class activation map: a W×H grid of float64 values, row-major,
// rows = y and cols = x, so V[y*W+x] is the value at pixel (x, y). At(x, y)
// of a map resized to the input matches pixel (x, y) of the input.
//
// A Map is a plain value; copying it shares V, so concurrent writes to
// copies race. Functions that return a Map return fresh memory.
type Map struct {
	W, H int
	V    []float64
}

// NewMap returns a zeroed w×h map.
func NewMap(w, h int) Map { return Map{W: w, H: h, V: make([]float64, w*h)} }

// At returns the value at column x, row y. It panics if (x, y) is outside
// the map (a caller bug).
func (m Map) At(x, y int) float64 {
	if x < 0 || y < 0 || x >= m.W || y >= m.H {
		panic("cam: Map.At out of range")
	}
	return m.V[y*m.W+x]
}

// Interp selects the upsampling kernel. The zero value is Linear.
//
//go:generate go tool stringer -type=Interp -linecomment
type Interp int

const (
	// Linear is OpenCV's INTER_LINEAR (half-pixel bilinear, replicated
	// border), the default of pytorch-grad-cam's scale_cam_image.
	Linear Interp = iota // linear
	// Cubic is OpenCV's INTER_CUBIC (Keys a = -0.75), the wsolevaluation
	// resize; it overshoots, which the later min-max removes.
	Cubic // cubic
	// Nearest is OpenCV's INTER_NEAREST.
	Nearest // nearest
)

// Resize writes into dst the resize of src to dst.W×dst.H with the given
// kernel, using the OpenCV conventions of package internal/resample. The
// caller sets dst.W and dst.H; dst.V is reused when it has room and
// allocated otherwise. dst must not share memory with src. Resize panics if
// a size is not positive (a caller bug).
func Resize(dst *Map, src Map, interp Interp) {
	n := dst.W * dst.H
	if cap(dst.V) >= n {
		dst.V = dst.V[:n]
	} else {
		dst.V = make([]float64, n)
	}
	switch interp {
	case Cubic:
		resample.Cubic(dst.V, dst.W, dst.H, src.V, src.W, src.H)
	case Nearest:
		resample.Nearest(dst.V, dst.W, dst.H, src.V, src.W, src.H)
	default:
		resample.Linear(dst.V, dst.W, dst.H, src.V, src.W, src.H)
	}
}

// Resized returns a new w×h map resized from m; m is unchanged.
func (m Map) Resized(w, h int, interp Interp) Map {
	dst := Map{W: w, H: h}
	Resize(&dst, m, interp)
	return dst
}

// Normalize rescales m in place to [0, 1] per the wsolevaluation
// normalize_scoremap convention: if any value is NaN, or the map is
// constant (max == min), every value becomes 0; otherwise v ← (v − min) /
// (max − min), so the map attains exactly 0 and 1. ±Inf values count as
// non-finite and also zero the map.
func Normalize(m Map) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range m.V {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			clear(m.V)
			return
		}
		lo = min(lo, v)
		hi = max(hi, v)
	}
	if !(hi > lo) {
		clear(m.V)
		return
	}
	d := hi - lo
	if math.IsInf(d, 0) {
		// The range overflows float64: scale by ½ first.
		d = hi/2 - lo/2
		for i, v := range m.V {
			m.V[i] = (v/2 - lo/2) / d
		}
		return
	}
	for i, v := range m.V {
		m.V[i] = (v - lo) / d
	}
}

// Normalized returns a normalised copy of m (see Normalize); m is
// unchanged.
func (m Map) Normalized() Map {
	c := Map{W: m.W, H: m.H, V: append([]float64(nil), m.V...)}
	Normalize(c)
	return c
}

// Scoremap returns m resized to w×h with interp and then min-max
// normalised: the wsolevaluation order (resize before normalisation, so
// cubic overshoot is normalised away). With Cubic and the network input
// size it is exactly the map wsolevaluation scores.
func (m Map) Scoremap(w, h int, interp Interp) Map {
	r := m.Resized(w, h, interp)
	Normalize(r)
	return r
}
