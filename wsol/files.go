package wsol

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"github.com/cutmixcam/cutmix-cam/internal/npy"
	"github.com/cutmixcam/cutmix-cam/internal/resample"
)

// EvalSize is the reference's evaluation width and height: images are
// warped to 224×224 and maps, boxes and masks compared in that frame.
const EvalSize = 224

// Source yields the samples of a run by index. Sample is called from
// several goroutines at once and must be safe for concurrent use.
type Source interface {
	Len() int
	Sample(ctx context.Context, i int) (Sample, error)
}

// Files is a Source over a Dataset with score maps stored as NumPy files
// <CAMRoot>/<image id>.npy (the id keeps its extension, e.g.
// val2/995/0.jpeg.npy, as the reference saves them) and masks under
// MaskRoot. Boxes are scaled to the evaluation size with ScaleBox. A Files
// is safe for concurrent use if its fields are not modified.
type Files struct {
	Data     *Dataset
	CAMRoot  string
	MaskRoot string
	// Size is the evaluation size; zero means EvalSize×EvalSize.
	Size image.Point
	// Prepare resizes and normalises every map with Prepare (for raw,
	// low-resolution CAMs); otherwise maps must already be Size and in
	// [0, 1], as the reference's score-map files are.
	Prepare bool
	// Pred optionally maps image ids to predicted classes for Top-1 Loc.
	Pred map[string]int
}

// Len returns the number of images.
func (f *Files) Len() int { return len(f.Data.Items) }

func (f *Files) size() image.Point {
	if f.Size == (image.Point{}) {
		return image.Pt(EvalSize, EvalSize)
	}
	return f.Size
}

// Sample loads image i: its map, scaled boxes and mask.
func (f *Files) Sample(ctx context.Context, i int) (Sample, error) {
	it := f.Data.Items[i]
	sz := f.size()
	m, err := LoadMap(ctx, filepath.Join(f.CAMRoot, filepath.FromSlash(it.ID)+".npy"))
	if err != nil {
		return Sample{}, fmt.Errorf("image %q: %w", it.ID, err)
	}
	if f.Prepare {
		var nan bool
		if m, nan = Prepare(m, sz); nan {
			// Keep the NaN visible so that the metrics count the map.
			m.Pix[0] = math.NaN()
		}
	} else if m.W != sz.X || m.H != sz.Y {
		return Sample{}, fmt.Errorf("image %q: %w: map %dx%d, want %dx%d", it.ID, ErrMapSize, m.W, m.H, sz.X, sz.Y)
	}
	s := Sample{ID: it.ID, Map: m, Label: it.Label, Pred: -1}
	if p, ok := f.Pred[it.ID]; ok {
		s.Pred = p
	}
	for _, b := range it.Boxes {
		if it.Size == (image.Point{}) {
			return Sample{}, fmt.Errorf("image %q: %w: boxes without an image size", it.ID, ErrBox)
		}
		s.Boxes = append(s.Boxes, ScaleBox(b, it.Size, sz))
	}
	if len(it.Masks) > 0 {
		mask, err := LoadMask(ctx, f.MaskRoot, it.Masks, it.Ignore, sz)
		if err != nil {
			return Sample{}, fmt.Errorf("image %q: %w", it.ID, err)
		}
		s.Mask = mask
	}
	return s, nil
}

// LoadMap reads a 2-D float32 or float64 NumPy array (rows = y) as a Map.
// Values are not checked here; NaN maps are handled by the metrics.
func LoadMap(ctx context.Context, path string) (Map, error) {
	if err := ctx.Err(); err != nil {
		return Map{}, err
	}
	fh, err := os.Open(path)
	if err != nil {
		return Map{}, fmt.Errorf("wsol: load map: %w", err)
	}
	defer fh.Close()
	a, err := npy.Read(fh)
	if err != nil {
		return Map{}, fmt.Errorf("wsol: load map %s: %w", path, err)
	}
	if len(a.Shape) != 2 || a.Shape[0] == 0 || a.Shape[1] == 0 {
		return Map{}, fmt.Errorf("wsol: load map %s: %w: shape %v, want 2-D", path, ErrMapSize, a.Shape)
	}
	return Map{W: a.Shape[1], H: a.Shape[0], Pix: a.Data}, nil
}

// SaveMap writes m as a 2-D float64 NumPy array (rows = y), the format
// LoadMap and the reference read.
func SaveMap(ctx context.Context, path string, m Map) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.W <= 0 || m.H <= 0 || len(m.Pix) != m.W*m.H {
		return fmt.Errorf("wsol: save map: %w: %dx%d with %d scores", ErrMapSize, m.W, m.H, len(m.Pix))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("wsol: save map: %w", err)
	}
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("wsol: save map: %w", err)
	}
	if err := npy.Write(fh, npy.Array{Shape: []int{m.H, m.W}, Data: m.Pix}); err != nil {
		fh.Close()
		return fmt.Errorf("wsol: save map %s: %w", path, err)
	}
	return fh.Close()
}

// Prepare turns a raw CAM into a score map the way the reference's
// CAMComputer does: OpenCV INTER_CUBIC resize to size, then per-map min-max
// normalisation; a map holding NaN, or a constant one, becomes all-zero.
// It reports whether the input held a NaN. The result does not alias raw.
func Prepare(raw Map, size image.Point) (Map, bool) {
	out := Map{W: size.X, H: size.Y, Pix: make([]float64, size.X*size.Y)}
	if raw.W <= 0 || raw.H <= 0 || len(raw.Pix) != raw.W*raw.H || size.X <= 0 || size.Y <= 0 {
		return out, false
	}
	if hasNaN(raw.Pix) {
		return out, true
	}
	resample.Cubic(out.Pix, size.X, size.Y, raw.Pix, raw.W, raw.H)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range out.Pix {
		lo, hi = min(lo, v), max(hi, v)
	}
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		clear(out.Pix)
		return out, false
	}
	for i, v := range out.Pix {
		out.Pix[i] = v - lo
	}
	top := hi - lo
	for i, v := range out.Pix {
		out.Pix[i] = v / top
	}
	return out, false
}

// readBinary decodes a PNG as the reference's cv2.imread(IMREAD_GRAYSCALE)
// > 0.5 (any non-zero grey level) and resizes it to size with OpenCV's
// INTER_NEAREST index rule.
func readBinary(path string, size image.Point) ([]bool, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 {
		return nil, fmt.Errorf("%w: empty mask %s", ErrMapSize, path)
	}
	xs := make([]int, size.X)
	for x := range xs {
		xs[x] = resample.NearestIndex(x, w, size.X)
	}
	out := make([]bool, size.X*size.Y)
	for y := range size.Y {
		sy := resample.NearestIndex(y, h, size.Y) + b.Min.Y
		for x, sx := range xs {
			g := color.GrayModel.Convert(img.At(sx+b.Min.X, sy)).(color.Gray)
			out[y*size.X+x] = g.Y > 0
		}
	}
	return out, nil
}

// LoadMask builds the reference's PxAP ground truth of one image: every
// instance mask under root is nearest-resized to size and thresholded
// (> 0.5 on the grey level), the masks are OR-ed into the foreground, and
// the ignore mask (if ignore is not empty) minus the foreground becomes
// MaskIgnore. Masks must be PNG files; colour ones are converted to grey
// first.
func LoadMask(ctx context.Context, root string, masks []string, ignore string, size image.Point) (*Mask, error) {
	m := &Mask{W: size.X, H: size.Y, Pix: make([]uint8, size.X*size.Y)}
	for _, p := range masks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fg, err := readBinary(filepath.Join(root, filepath.FromSlash(p)), size)
		if err != nil {
			return nil, fmt.Errorf("wsol: load mask: %w", err)
		}
		for i, on := range fg {
			if on {
				m.Pix[i] = MaskForeground
			}
		}
	}
	if ignore != "" {
		ig, err := readBinary(filepath.Join(root, filepath.FromSlash(ignore)), size)
		if err != nil {
			return nil, fmt.Errorf("wsol: load ignore mask: %w", err)
		}
		for i, on := range ig {
			if on && m.Pix[i] != MaskForeground {
				m.Pix[i] = MaskIgnore
			}
		}
	}
	return m, nil
}

// Run scores the images of src that belong to shard, in parallel
// (cfg.Workers), and returns their statistics, e.g. for Accumulator.Result
// or Accumulator.Partial. It stops at the first error or when ctx is done.
func Run(ctx context.Context, cfg Config, src Source, shard Shard) (*Accumulator, error) {
	a, err := NewAccumulator(cfg)
	if err != nil {
		return nil, err
	}
	get := func(i int) (Sample, error) {
		if err := ctx.Err(); err != nil {
			return Sample{}, err
		}
		return src.Sample(ctx, i)
	}
	st, err := parallel(a.cfg, src.Len(), get, shard.Indices(src.Len()))
	if err != nil {
		return nil, err
	}
	if err := a.stats.Add(st); err != nil {
		return nil, err
	}
	return a, nil
}
