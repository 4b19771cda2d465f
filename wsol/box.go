package wsol

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// Map is a score map: Pix[y*W+x] is the score of pixel (x, y), rows = y.
// Maps given to the metrics hold scores in [0, 1] (NaN maps are treated as
// all-zero, see Config).
// A Map is plain data: the metrics only read it, so goroutines may share
// it while nobody writes it.
type Map struct {
	W, H int
	Pix  []float64
}

// Sentinel errors.
var (
	// ErrMapSize reports a map, mask or box whose size does not fit.
	ErrMapSize = errors.New("wsol: size mismatch")
	// ErrScoreRange reports a score outside [0, 1] (or infinite).
	ErrScoreRange = errors.New("wsol: score outside [0, 1]")
	// ErrBox reports an invalid box: negative, inverted or outside the image.
	ErrBox = errors.New("wsol: invalid box")
)

// Thresholds returns the reference's CAM threshold grid
// np.arange(0, 1, interval): the values float64(i)*interval for
// i = 0 .. ceil(1/interval)-1. It returns nil if interval is not in (0, 1].
func Thresholds(interval float64) []float64 {
	if !(interval > 0 && interval <= 1) {
		return nil
	}
	n := int(math.Ceil(1 / interval))
	ts := make([]float64, n)
	for i := range ts {
		ts[i] = float64(i) * interval
	}
	return ts
}

// quantize writes uint8(trunc(s*255)) of every score into dst and returns
// the maximum. Scores must be in [0, 1].
func quantize(dst []uint8, pix []float64) uint8 {
	var mx uint8
	for i, s := range pix {
		v := uint8(s * 255)
		dst[i] = v
		mx = max(mx, v)
	}
	return mx
}

// level returns the reference's integer threshold int(tau*max) for the
// quantized map; pixel v is foreground iff v > level.
func level(tau float64, maxU8 uint8) int {
	return int(tau * float64(maxU8))
}

// IoU returns the intersection over union of two boxes in pixel units. A
// box is an image.Rectangle whose Max is exclusive: the reference's inclusive
// box [x0, y0, x1, y1] is image.Rect(x0, y0, x1+1, y1+1), so IoU applies the
// reference's "+1" convention. Empty or inverted boxes give 0.
func IoU(a, b image.Rectangle) float64 {
	iw := min(a.Max.X, b.Max.X) - max(a.Min.X, b.Min.X)
	ih := min(a.Max.Y, b.Max.Y) - max(a.Min.Y, b.Min.Y)
	inter := max(0, iw) * max(0, ih)
	union := a.Dx()*a.Dy() + b.Dx()*b.Dy() - inter
	if union <= 0 || a.Dx() <= 0 || a.Dy() <= 0 || b.Dx() <= 0 || b.Dy() <= 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// maxIoU returns the largest IoU of box with any of gts (0 if gts is empty).
func maxIoU(box image.Rectangle, gts []image.Rectangle) float64 {
	best := 0.0
	for _, g := range gts {
		best = max(best, IoU(box, g))
	}
	return best
}

// NoBox returns the reference's box for a map with no contour,
// [0, 0, 0, 0] inclusive: a 1-pixel box at the origin.
func NoBox() image.Rectangle { return image.Rect(0, 0, 1, 1) }

// predBox converts an inclusive bounding rectangle of a contour into the
// reference's predicted box [x, y, min(x+w, W-1), min(y+h, H-1)].
func predBox(x0, y0, x1, y1, w, h int) image.Rectangle {
	return image.Rectangle{
		Min: image.Pt(x0, y0),
		Max: image.Pt(min(x1+1, w-1)+1, min(y1+1, h-1)+1),
	}
}

// ScaleBox maps an inclusive-coordinate box given in an image of size
// `from` to an image of size `to` the way the reference's resize_bbox does:
// every inclusive coordinate c becomes int(c*to/from) per axis, computed in
// float64 as (c*to)/from. The box uses the IoU convention (exclusive Max),
// so the inclusive corner is Max-1. The image is assumed warped (no crop).
// Both sizes must be positive.
func ScaleBox(b image.Rectangle, from, to image.Point) image.Rectangle {
	sc := func(c, t, f int) int { return int(float64(c) * float64(t) / float64(f)) }
	return image.Rectangle{
		Min: image.Pt(sc(b.Min.X, to.X, from.X), sc(b.Min.Y, to.Y, from.Y)),
		Max: image.Pt(sc(b.Max.X-1, to.X, from.X)+1, sc(b.Max.Y-1, to.Y, from.Y)+1),
	}
}

// checkBox validates a ground-truth box (exclusive Max) against an image
// size; a zero size skips the bounds check.
func checkBox(b image.Rectangle, size image.Point) error {
	if b.Min.X < 0 || b.Min.Y < 0 || b.Max.X <= b.Min.X || b.Max.Y <= b.Min.Y {
		return fmt.Errorf("%w: %v is negative or inverted", ErrBox, inclusive(b))
	}
	if size != (image.Point{}) && (b.Max.X > size.X || b.Max.Y > size.Y) {
		return fmt.Errorf("%w: %v outside a %dx%d image", ErrBox, inclusive(b), size.X, size.Y)
	}
	return nil
}

// inclusive formats b as the reference's [x0 y0 x1 y1].
func inclusive(b image.Rectangle) [4]int {
	return [4]int{b.Min.X, b.Min.Y, b.Max.X - 1, b.Max.Y - 1}
}

// Boxes returns the reference's predicted boxes (compute_bboxes_from_scoremaps)
// for one score map at one threshold tau: the box of the largest contour if
// all is false (MaxBoxAcc), every contour's box, hole borders included, if
// all is true (MaxBoxAccV2); NoBox if there is no contour. Boxes come in
// OpenCV's contour order. m must hold scores in [0, 1].
func Boxes(m Map, tau float64, all bool) ([]image.Rectangle, error) {
	if err := checkMap(m); err != nil {
		return nil, err
	}
	u8 := make([]uint8, len(m.Pix))
	mx := quantize(u8, m.Pix)
	var t tracer
	t.trace(u8, m.W, level(tau, mx), 0, 0, m.W-1, m.H-1)
	return boxesOf(&t, m.W, m.H, all), nil
}

func boxesOf(t *tracer, w, h int, all bool) []image.Rectangle {
	if len(t.order) == 0 {
		return []image.Rectangle{NoBox()}
	}
	if !all {
		c := t.contours[t.largest()]
		return []image.Rectangle{predBox(c.x0, c.y0, c.x1, c.y1, w, h)}
	}
	out := make([]image.Rectangle, 0, len(t.order))
	for _, k := range t.order {
		c := t.contours[k]
		out = append(out, predBox(c.x0, c.y0, c.x1, c.y1, w, h))
	}
	return out
}

// checkMap validates a map's size and score range. NaN maps are handled by
// the caller before this check.
func checkMap(m Map) error {
	if m.W <= 0 || m.H <= 0 || len(m.Pix) != m.W*m.H {
		return fmt.Errorf("%w: map %dx%d with %d scores", ErrMapSize, m.W, m.H, len(m.Pix))
	}
	for _, s := range m.Pix {
		if !(s >= 0 && s <= 1) {
			return fmt.Errorf("%w: %v", ErrScoreRange, s)
		}
	}
	return nil
}

// hasNaN reports whether any score is NaN.
func hasNaN(pix []float64) bool {
	for _, s := range pix {
		if s != s {
			return true
		}
	}
	return false
}
