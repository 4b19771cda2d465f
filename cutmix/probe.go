package cutmix

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/disintegration/imaging"

	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
)

// SchemaVersion is the version of the Manifest JSON schema. It changes
// whenever a field is renamed, removed or changes meaning.
const SchemaVersion = 1

// Source is one probe source image with its identity and class. Sources
// are read, never modified, so one slice may be shared by goroutines.
type Source struct {
	ID        string      // identifier recorded in the manifest, such as a file name
	Class     int         // class index recorded in the manifest; -1 means unknown
	ClassName string      // optional class name recorded in the manifest
	Image     image.Image // pixels; never modified
}

// Probe configures Probes. Its zero value makes len(sources) official
// CutMix probes (α = 1) with seed 0 at each target's own size. Probes
// copies it, so one Probe may be used by several goroutines at once.
type Probe struct {
	// Sampler holds the method and its options. Its Src is ignored: probe i
	// draws everything (partner choice and the Draw) from
	// rand.NewPCG(Seed, i), so each probe is reproducible from the
	// manifest's seed and index alone. Mode and Partner are unused.
	Sampler Sampler
	// Seed seeds every probe; it is recorded in the manifest.
	Seed uint64
	// Count is the number of probes. 0 means len(sources).
	Count int
	// Size, when non-zero, is the output size: targets and partners are
	// brought to it by Sampler.Fit. Zero means each target's own size.
	Size image.Point
}

// SourceRef identifies a source image in a manifest record. It is a
// plain value.
type SourceRef struct {
	ID        string `json:"id"`
	Class     int    `json:"class"`
	ClassName string `json:"class_name,omitempty"`
}

func ref(s Source) SourceRef { return SourceRef{ID: s.ID, Class: s.Class, ClassName: s.ClassName} }

// Record describes one probe image. Box is [x0, y0, x1, y1], half-open,
// in the probe's pixel coordinates; [0, 0, 0, 0] when nothing was pasted
// (Mixup, or not applied). Pixels inside Box come from Partner (CutMix) or
// the fill (Cutout); all other pixels come from Target. Lambda is the
// fraction of pixels (or, for Mixup, the weight) from Target. A Record is
// a plain value.
type Record struct {
	File        string     `json:"file"`
	Index       int        `json:"index"`
	Method      string     `json:"method"`
	Variant     string     `json:"variant"`
	Target      SourceRef  `json:"target"`
	Partner     *SourceRef `json:"partner,omitempty"`
	Width       int        `json:"width"`
	Height      int        `json:"height"`
	Box         [4]int     `json:"box"`
	Applied     bool       `json:"applied"`
	Lambda      float64    `json:"lambda"`
	LambdaRaw   float64    `json:"lambda_raw"`
	LabelWeight float64    `json:"label_weight"`
	Seed        uint64     `json:"seed"`
	Stream      uint64     `json:"stream"`
}

// Rect returns r.Box as an image.Rectangle.
func (r Record) Rect() image.Rectangle { return image.Rect(r.Box[0], r.Box[1], r.Box[2], r.Box[3]) }

// Manifest lists a probe set. It marshals to snake_case JSON with
// "schema_version" and "seed". Each record's Seed and Stream are the two
// words of the PCG that drew it. Like any Go value, a Manifest may be
// read concurrently but not written while read.
type Manifest struct {
	SchemaVersion int      `json:"schema_version"`
	Seed          uint64   `json:"seed"`
	Method        string   `json:"method"`
	Variant       string   `json:"variant"`
	Alpha         float64  `json:"alpha"`
	Count         int      `json:"count"`
	Probes        []Record `json:"probes"`
}

// ProbeSet is a set of probe images with their manifest;
// Images[i] is described by Manifest.Probes[i]. ContactSheet and Write
// only read it, so they may run concurrently on one ProbeSet; modifying it
// meanwhile is a race.
type ProbeSet struct {
	Manifest Manifest
	Images   []*image.NRGBA
}

// Probes makes p.Count mixed probe images from sources. Probe i takes
// sources[i mod len(sources)] as its target and draws its partner
// uniformly among the sources of another class (among all other sources
// if every source has the target's class), then draws and renders one
// Draw (see Render). Cutout probes record no partner. It returns
// ErrSources for fewer than two sources, ErrEmpty for an empty source
// image, and the errors of Sampler.Sample.
func Probes(sources []Source, p Probe) (*ProbeSet, error) {
	if len(sources) < 2 {
		return nil, fmt.Errorf("probes from %d sources: %w", len(sources), ErrSources)
	}
	for i, s := range sources {
		if s.Image == nil || s.Image.Bounds().Empty() {
			return nil, fmt.Errorf("probes source %d %q: %w", i, s.ID, ErrEmpty)
		}
	}
	if p.Count < 0 || p.Size.X < 0 || p.Size.Y < 0 || (p.Size.X == 0) != (p.Size.Y == 0) {
		return nil, fmt.Errorf("probes count %d size %v: %w", p.Count, p.Size, ErrOption)
	}
	n := p.Count
	if n == 0 {
		n = len(sources)
	}
	s := p.Sampler
	c, err := s.settings()
	if err != nil {
		return nil, fmt.Errorf("probes: %w", err)
	}
	set := &ProbeSet{
		Manifest: Manifest{
			SchemaVersion: SchemaVersion,
			Seed:          p.Seed,
			Method:        strings.ToLower(c.Method.String()),
			Variant:       variant(&c),
			Alpha:         c.Alpha,
			Count:         n,
			Probes:        make([]Record, 0, n),
		},
		Images: make([]*image.NRGBA, 0, n),
	}
	others := make([]int, 0, len(sources))
	for i := range n {
		src := rand.NewPCG(p.Seed, uint64(i))
		r := rand.New(src)
		ti := i % len(sources)
		tgt := sources[ti]
		others = others[:0]
		for j, o := range sources {
			if j != ti && o.Class != tgt.Class {
				others = append(others, j)
			}
		}
		if len(others) == 0 {
			for j := range sources {
				if j != ti {
					others = append(others, j)
				}
			}
		}
		pi := others[r.IntN(len(others))]
		part := sources[pi]
		timg, pimg := tgt.Image, part.Image
		if p.Size != (image.Point{}) {
			if timg, err = Conform(timg, p.Size.X, p.Size.Y, c.Fit); err != nil {
				return nil, fmt.Errorf("probe %d target %q: %w", i, tgt.ID, err)
			}
		}
		b := timg.Bounds()
		c.Src = src
		if err := c.check(b.Dx(), b.Dy()); err != nil {
			return nil, fmt.Errorf("probe %d target %q: %w", i, tgt.ID, err)
		}
		d := c.draw(r, b.Dx(), b.Dy())
		img, err := Render(timg, pimg, d, c.Fit)
		if err != nil {
			return nil, fmt.Errorf("probe %d: %w", i, err)
		}
		rec := Record{
			File:        fmt.Sprintf("probe_%05d.png", i),
			Index:       i,
			Method:      strings.ToLower(d.Method.String()),
			Variant:     set.Manifest.Variant,
			Target:      ref(tgt),
			Width:       b.Dx(),
			Height:      b.Dy(),
			Box:         boxArray(d.Box),
			Applied:     d.Applied,
			Lambda:      d.Lambda,
			LambdaRaw:   d.Raw,
			LabelWeight: d.Weight,
			Seed:        p.Seed,
			Stream:      uint64(i),
		}
		if d.Method != Cutout {
			rec.Partner = new(ref(part))
		}
		set.Manifest.Probes = append(set.Manifest.Probes, rec)
		set.Images = append(set.Images, img)
	}
	return set, nil
}

func boxArray(b image.Rectangle) [4]int {
	if b.Empty() {
		return [4]int{}
	}
	return [4]int{b.Min.X, b.Min.Y, b.Max.X, b.Max.Y}
}

// variant names the options that differ from the official recipe,
// joined by "+"; "official" when none do.
func variant(c *settings) string {
	var v []string
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	if c.Center == CenterGaussian {
		v = append(v, "center-gaussian(sigma="+f(c.Sigma)+")")
	}
	if c.Fixed != (image.Point{}) {
		v = append(v, fmt.Sprintf("fixed(%dx%d)", c.Fixed.X, c.Fixed.Y))
	}
	if c.MinMax[1] > 0 {
		o := ""
		if c.InclusiveOrigin {
			o = ",inclusive"
		}
		v = append(v, "minmax("+f(c.MinMax[0])+","+f(c.MinMax[1])+o+")")
	}
	if c.Scheduled {
		v = append(v, "scheduled(progress="+f(c.Progress)+")")
	}
	if c.Prob != 0 && c.Prob != 1 {
		v = append(v, "prob("+f(c.Prob)+")")
	}
	if c.SwitchProb > 0 {
		v = append(v, "switch("+f(c.SwitchProb)+")")
	}
	if c.RawLambda {
		v = append(v, "raw-lambda")
	}
	switch c.Label {
	case LabelOneHot:
		v = append(v, "one-hot")
	case LabelComplete:
		v = append(v, "complete-label")
	}
	if c.Method == Cutout {
		v = append(v, "fill-"+strings.ToLower(c.Fill.String()))
	}
	if len(v) == 0 {
		return "official"
	}
	return strings.Join(v, "+")
}

// Between makes the CutMix paper's in-between-class probes (Fig. 5b): for
// each s in sizes, outside with a centred s×s square taken from inside.
// inside is first brought to outside's size by fit, so the square shows
// the centre of inside. The square is [(W−s)/2, (W−s)/2+s) ×
// [(H−s)/2, (H−s)/2+s) with integer halving. Records name outside as the
// Target and inside as the Partner, so Lambda = 1 − s²/(W·H) is the
// fraction of outside pixels; method "cutmix", variant "between(s=N)",
// seed 0. It returns ErrEmpty for an empty image, ErrOption for a negative
// size and ErrBoxTooLarge when s exceeds W or H.
func Between(inside, outside Source, sizes []int, fit Fit) (*ProbeSet, error) {
	if outside.Image == nil || outside.Image.Bounds().Empty() {
		return nil, fmt.Errorf("between outside %q: %w", outside.ID, ErrEmpty)
	}
	b := outside.Image.Bounds()
	w, h := b.Dx(), b.Dy()
	for _, s := range sizes {
		if s < 0 {
			return nil, fmt.Errorf("between size %d: %w", s, ErrOption)
		}
		if s > w || s > h {
			return nil, fmt.Errorf("between size %d in %dx%d image: %w", s, w, h, ErrBoxTooLarge)
		}
	}
	set := &ProbeSet{Manifest: Manifest{
		SchemaVersion: SchemaVersion,
		Method:        "cutmix",
		Variant:       "between",
		Count:         len(sizes),
		Probes:        make([]Record, 0, len(sizes)),
	}}
	for i, s := range sizes {
		x0, y0 := (w-s)/2, (h-s)/2
		box := image.Rect(x0, y0, x0+s, y0+s)
		d := Draw{Method: CutMix, Applied: true, Box: box, Lambda: corrected(box, w, h)}
		d.Raw, d.Weight = d.Lambda, d.Lambda
		img, err := Render(outside.Image, inside.Image, d, fit)
		if err != nil {
			return nil, fmt.Errorf("between size %d: %w", s, err)
		}
		set.Manifest.Probes = append(set.Manifest.Probes, Record{
			File:        fmt.Sprintf("between_%05d_s%d.png", i, s),
			Index:       i,
			Method:      "cutmix",
			Variant:     fmt.Sprintf("between(s=%d)", s),
			Target:      ref(outside),
			Partner:     new(ref(inside)),
			Width:       w,
			Height:      h,
			Box:         boxArray(box),
			Applied:     true,
			Lambda:      d.Lambda,
			LambdaRaw:   d.Lambda,
			LabelWeight: d.Lambda,
		})
		set.Images = append(set.Images, img)
	}
	return set, nil
}

// Sheet configures ContactSheet. Its zero value gives 128-pixel cells,
// ⌈√n⌉ columns, a 4-pixel gap and opaque red boxes. It is a plain value.
type Sheet struct {
	Cell    int         // thumbnail size in pixels (longer side); 0 means 128
	Columns int         // cells per row; 0 means ⌈√n⌉
	Gap     int         // pixels between cells; 0 means 4
	Color   color.NRGBA // box outline colour; the zero value means opaque red
}

// ContactSheet returns a grid of the probe thumbnails (imaging.Fit, Linear
// filter, never upscaled) on a dark grey background, with each record's
// box drawn as a 1-pixel outline scaled to the thumbnail. It returns
// ErrEmpty for an empty set and ErrShape when images and records differ
// in number.
func ContactSheet(set *ProbeSet, s Sheet) (*image.NRGBA, error) {
	if set == nil || len(set.Images) == 0 {
		return nil, fmt.Errorf("contact sheet: %w", ErrEmpty)
	}
	if len(set.Images) != len(set.Manifest.Probes) {
		return nil, fmt.Errorf("contact sheet of %d images, %d records: %w", len(set.Images), len(set.Manifest.Probes), ErrShape)
	}
	if s.Cell <= 0 {
		s.Cell = 128
	}
	n := len(set.Images)
	if s.Columns <= 0 {
		s.Columns = int(math.Ceil(math.Sqrt(float64(n))))
	}
	if s.Gap <= 0 {
		s.Gap = 4
	}
	if s.Color == (color.NRGBA{}) {
		s.Color = color.NRGBA{R: 255, A: 255}
	}
	rows := (n + s.Columns - 1) / s.Columns
	step := s.Cell + s.Gap
	sheet := imaging.New(s.Columns*step+s.Gap, rows*step+s.Gap, color.NRGBA{R: 32, G: 32, B: 32, A: 255})
	for i, img := range set.Images {
		th := imaging.Fit(img, s.Cell, s.Cell, imaging.Linear)
		at := image.Pt(s.Gap+(i%s.Columns)*step, s.Gap+(i/s.Columns)*step)
		sheet = imaging.Paste(sheet, th, at)
		box := set.Manifest.Probes[i].Rect()
		if box.Empty() {
			continue
		}
		sx := float64(th.Rect.Dx()) / float64(img.Rect.Dx())
		sy := float64(th.Rect.Dy()) / float64(img.Rect.Dy())
		x0 := int(math.Floor(float64(box.Min.X) * sx))
		y0 := int(math.Floor(float64(box.Min.Y) * sy))
		x1 := max(int(math.Ceil(float64(box.Max.X)*sx))-1, x0)
		y1 := max(int(math.Ceil(float64(box.Max.Y)*sy))-1, y0)
		outline(sheet, image.Rect(x0, y0, x1+1, y1+1).Add(at), s.Color)
	}
	return sheet, nil
}

func outline(img *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	for x := r.Min.X; x < r.Max.X; x++ {
		img.SetNRGBA(x, r.Min.Y, c)
		img.SetNRGBA(x, r.Max.Y-1, c)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		img.SetNRGBA(r.Min.X, y, c)
		img.SetNRGBA(r.Max.X-1, y, c)
	}
}

// Names of the files Write creates besides the probe images.
const (
	ManifestFile = "manifest.json"
	SheetFile    = "contact_sheet.png"
)

// Write writes set into dir, creating dir if needed: each image as PNG
// under its record's File name, the manifest as indented JSON in
// ManifestFile and the contact sheet (ContactSheet with s) in SheetFile.
// Each file is written to a temporary file in dir and renamed into place,
// so readers never see a partial file. It stops between files when ctx is
// done. Same set, same bytes.
func Write(ctx context.Context, dir string, set *ProbeSet, s Sheet) error {
	sheet, err := ContactSheet(set, s)
	if err != nil {
		return fmt.Errorf("write probes to %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write probes: %w", err)
	}
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	for i, img := range set.Images {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("write probes to %s: %w", dir, err)
		}
		name := set.Manifest.Probes[i].File
		if name == "" || filepath.Base(name) != name {
			return fmt.Errorf("write probe %d file %q: %w", i, name, ErrOption)
		}
		if err := writeAtomic(dir, name, func(w io.Writer) error { return enc.Encode(w, img) }); err != nil {
			return err
		}
	}
	if err := writeAtomic(dir, SheetFile, func(w io.Writer) error { return enc.Encode(w, sheet) }); err != nil {
		return err
	}
	return writeAtomic(dir, ManifestFile, func(w io.Writer) error {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(set.Manifest)
	})
}

// writeAtomic writes dir/name through a temporary file and a rename.
func writeAtomic(dir, name string, write func(io.Writer) error) error {
	return atomicfile.Write(filepath.Join(dir, name), 0, write)
}
