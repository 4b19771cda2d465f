package wsol

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrSyntax reports a malformed metadata line or manifest.
var ErrSyntax = errors.New("wsol: malformed metadata")

// ParseError locates a metadata error: the file name and the 1-based line
// (0 when the error concerns the whole file).
// It is plain data.
type ParseError struct {
	File string
	Line int
	Err  error
}

// Error implements error.
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// Item is one image of a dataset.
// It is plain data.
type Item struct {
	// ID is the image path relative to the image root, as in
	// image_ids.txt; score maps are named <ID>.npy.
	ID string
	// Label is the 0-based class.
	Label int
	// Size is the original width and height; zero if unknown (the
	// reference's image_sizes.txt is empty for OpenImages).
	Size image.Point
	// Boxes are the ground-truth boxes in original pixels, exclusive Max
	// (the file's inclusive x0,y0,x1,y1 is image.Rect(x0, y0, x1+1, y1+1)).
	Boxes []image.Rectangle
	// Masks are the instance mask paths and Ignore the ignore mask path,
	// relative to the mask root.
	Masks  []string
	Ignore string
}

// Dataset is an ordered list of images with their ground truth. Shards
// and partial results refer to this order.
// Functions that take a Dataset only read it; share it read-only between
// goroutines.
type Dataset struct {
	Items []Item
}

// Metadata file names of the reference layout.
const (
	FileImageIDs     = "image_ids.txt"
	FileClassLabels  = "class_labels.txt"
	FileImageSizes   = "image_sizes.txt"
	FileLocalization = "localization.txt"
)

// lines splits a metadata file into lines, stripping only "\n" like the
// reference; the last line needs no newline, and one final newline is
// accepted. It calls f with each line and its 1-based number.
func lines(r io.Reader, name string, f func(line string, n int) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	n := 0
	for sc.Scan() {
		n++
		if err := f(sc.Text(), n); err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				return err
			}
			return &ParseError{File: name, Line: n, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return &ParseError{File: name, Err: err}
	}
	return nil
}

func fields(line string, n int) ([]string, error) {
	fs := strings.Split(line, ",")
	if len(fs) != n {
		return nil, fmt.Errorf("%w: %d comma-separated fields, want %d", ErrSyntax, len(fs), n)
	}
	if fs[0] == "" {
		return nil, fmt.Errorf("%w: empty image id", ErrSyntax)
	}
	return fs, nil
}

func atoi(s, what string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%w: %s %q is not a non-negative integer", ErrSyntax, what, s)
	}
	return v, nil
}

// parseIDs reads image_ids.txt.
func parseIDs(r io.Reader, name string) ([]string, error) {
	var ids []string
	seen := map[string]bool{}
	err := lines(r, name, func(line string, _ int) error {
		if line == "" || strings.Contains(line, ",") {
			return fmt.Errorf("%w: image id %q", ErrSyntax, line)
		}
		if seen[line] {
			return fmt.Errorf("%w: duplicate image id %q", ErrSyntax, line)
		}
		seen[line] = true
		ids = append(ids, line)
		return nil
	})
	return ids, err
}

// parseLabels reads class_labels.txt.
func parseLabels(r io.Reader, name string) (map[string]int, error) {
	out := map[string]int{}
	err := lines(r, name, func(line string, _ int) error {
		fs, err := fields(line, 2)
		if err != nil {
			return err
		}
		v, err := atoi(fs[1], "label")
		if err != nil {
			return err
		}
		if _, dup := out[fs[0]]; dup {
			return fmt.Errorf("%w: duplicate image id %q", ErrSyntax, fs[0])
		}
		out[fs[0]] = v
		return nil
	})
	return out, err
}

// parseSizes reads image_sizes.txt (id,width,height).
func parseSizes(r io.Reader, name string) (map[string]image.Point, error) {
	out := map[string]image.Point{}
	err := lines(r, name, func(line string, _ int) error {
		fs, err := fields(line, 3)
		if err != nil {
			return err
		}
		w, err := atoi(fs[1], "width")
		if err != nil {
			return err
		}
		h, err := atoi(fs[2], "height")
		if err != nil {
			return err
		}
		if w == 0 || h == 0 {
			return fmt.Errorf("%w: empty image size %dx%d", ErrSyntax, w, h)
		}
		if _, dup := out[fs[0]]; dup {
			return fmt.Errorf("%w: duplicate image id %q", ErrSyntax, fs[0])
		}
		out[fs[0]] = image.Pt(w, h)
		return nil
	})
	return out, err
}

// localization is the parsed localization.txt.
type localization struct {
	boxes  map[string][]image.Rectangle
	masks  map[string][]string
	ignore map[string]string
	// line remembers the first line of every id, for errors found after
	// parsing.
	line map[string]int
}

// parseLocalization reads localization.txt: either box lines
// (id,x0,y0,x1,y1, inclusive) or mask lines (id,mask,ignore with the ignore
// path on the first line of an image only), not both.
func parseLocalization(r io.Reader, name string) (localization, error) {
	loc := localization{
		boxes: map[string][]image.Rectangle{}, masks: map[string][]string{},
		ignore: map[string]string{}, line: map[string]int{},
	}
	kind := 0 // 5 for boxes, 3 for masks
	err := lines(r, name, func(line string, n int) error {
		k := strings.Count(line, ",") + 1
		if kind == 0 {
			if k != 5 && k != 3 {
				return fmt.Errorf("%w: %d fields, want 5 (boxes) or 3 (masks)", ErrSyntax, k)
			}
			kind = k
		}
		fs, err := fields(line, kind)
		if err != nil {
			return err
		}
		id := fs[0]
		if _, ok := loc.line[id]; !ok {
			loc.line[id] = n
		}
		if kind == 3 {
			if fs[1] == "" {
				return fmt.Errorf("%w: empty mask path", ErrSyntax)
			}
			if _, ok := loc.masks[id]; ok {
				if fs[2] != "" {
					return fmt.Errorf("%w: ignore path on a later line of image %q", ErrSyntax, id)
				}
			} else {
				loc.ignore[id] = fs[2]
			}
			loc.masks[id] = append(loc.masks[id], fs[1])
			return nil
		}
		var c [4]int
		for i, what := range []string{"x0", "y0", "x1", "y1"} {
			if c[i], err = atoi(fs[i+1], what); err != nil {
				return err
			}
		}
		b := image.Rectangle{Min: image.Pt(c[0], c[1]), Max: image.Pt(c[2]+1, c[3]+1)}
		if err := checkBox(b, image.Point{}); err != nil {
			return err
		}
		loc.boxes[id] = append(loc.boxes[id], b)
		return nil
	})
	return loc, err
}

// ReadMetadata reads a dataset in the reference's layout from dir:
// image_ids.txt (required), class_labels.txt (required), image_sizes.txt
// and localization.txt (optional; missing or empty means none). Errors
// carry the file and line.
func ReadMetadata(ctx context.Context, dir string) (*Dataset, error) {
	read := func(name string, required bool, f func(r io.Reader) error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		fh, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			if !required && errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("wsol: read metadata: %w", err)
		}
		defer fh.Close()
		return f(fh)
	}
	var (
		ids    []string
		labels map[string]int
		sizes  = map[string]image.Point{}
		loc    = localization{boxes: map[string][]image.Rectangle{}, masks: map[string][]string{}, ignore: map[string]string{}, line: map[string]int{}}
		err    error
	)
	if err = read(FileImageIDs, true, func(r io.Reader) error { ids, err = parseIDs(r, FileImageIDs); return err }); err != nil {
		return nil, err
	}
	if err = read(FileClassLabels, true, func(r io.Reader) error { labels, err = parseLabels(r, FileClassLabels); return err }); err != nil {
		return nil, err
	}
	if err = read(FileImageSizes, false, func(r io.Reader) error { sizes, err = parseSizes(r, FileImageSizes); return err }); err != nil {
		return nil, err
	}
	if err = read(FileLocalization, false, func(r io.Reader) error { loc, err = parseLocalization(r, FileLocalization); return err }); err != nil {
		return nil, err
	}
	return assemble(ids, labels, sizes, loc)
}

func assemble(ids []string, labels map[string]int, sizes map[string]image.Point, loc localization) (*Dataset, error) {
	known := make(map[string]bool, len(ids))
	d := &Dataset{Items: make([]Item, 0, len(ids))}
	for _, id := range ids {
		known[id] = true
		lab, ok := labels[id]
		if !ok {
			return nil, &ParseError{File: FileClassLabels, Err: fmt.Errorf("%w: no label for image %q", ErrSyntax, id)}
		}
		it := Item{ID: id, Label: lab, Size: sizes[id], Boxes: loc.boxes[id], Masks: loc.masks[id], Ignore: loc.ignore[id]}
		if len(it.Boxes) > 0 && it.Size == (image.Point{}) {
			return nil, &ParseError{File: FileImageSizes, Err: fmt.Errorf("%w: no size for image %q with boxes", ErrSyntax, id)}
		}
		for _, b := range it.Boxes {
			if err := checkBox(b, it.Size); err != nil {
				return nil, &ParseError{File: FileLocalization, Line: loc.line[id], Err: err}
			}
		}
		d.Items = append(d.Items, it)
	}
	for id, n := range loc.line {
		if !known[id] {
			return nil, &ParseError{File: FileLocalization, Line: n, Err: fmt.Errorf("%w: image %q not in %s", ErrSyntax, id, FileImageIDs)}
		}
	}
	return d, nil
}

// WriteMetadata writes d in the reference's layout into dir (which must
// exist): the four files, comma-separated, without a trailing newline.
// image_sizes.txt lists the items with a known size; localization.txt
// holds box lines, or mask lines if no item has boxes.
func WriteMetadata(ctx context.Context, dir string, d *Dataset) error {
	var ids, labels, sizes, loc []string
	hasBoxes := false
	for _, it := range d.Items {
		hasBoxes = hasBoxes || len(it.Boxes) > 0
	}
	for _, it := range d.Items {
		if it.ID == "" || strings.ContainsAny(it.ID, ",\n") {
			return fmt.Errorf("%w: image id %q", ErrSyntax, it.ID)
		}
		ids = append(ids, it.ID)
		labels = append(labels, fmt.Sprintf("%s,%d", it.ID, it.Label))
		if it.Size != (image.Point{}) {
			sizes = append(sizes, fmt.Sprintf("%s,%d,%d", it.ID, it.Size.X, it.Size.Y))
		}
		if hasBoxes {
			for _, b := range it.Boxes {
				if err := checkBox(b, it.Size); err != nil {
					return fmt.Errorf("image %q: %w", it.ID, err)
				}
				c := inclusive(b)
				loc = append(loc, fmt.Sprintf("%s,%d,%d,%d,%d", it.ID, c[0], c[1], c[2], c[3]))
			}
			continue
		}
		for i, m := range it.Masks {
			ign := ""
			if i == 0 {
				ign = it.Ignore
			}
			if strings.ContainsAny(m+ign, ",\n") {
				return fmt.Errorf("%w: mask path %q", ErrSyntax, m)
			}
			loc = append(loc, fmt.Sprintf("%s,%s,%s", it.ID, m, ign))
		}
	}
	for _, f := range []struct {
		name  string
		lines []string
	}{{FileImageIDs, ids}, {FileClassLabels, labels}, {FileImageSizes, sizes}, {FileLocalization, loc}} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(strings.Join(f.lines, "\n")), 0o644); err != nil {
			return fmt.Errorf("wsol: write metadata: %w", err)
		}
	}
	return nil
}

// Fingerprint identifies the dataset's images and ground truth; partial
// results of different datasets do not merge.
func (d *Dataset) Fingerprint() string {
	h := sha256.New()
	for _, it := range d.Items {
		fmt.Fprintf(h, "%q %d %d %d %v %q %q\n", it.ID, it.Label, it.Size.X, it.Size.Y, it.Boxes, it.Masks, it.Ignore)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// manifest is the JSON manifest schema.
type manifest struct {
	SchemaVersion int            `json:"schema_version"`
	Images        []manifestItem `json:"images"`
}

type manifestItem struct {
	ID     string   `json:"id"`
	Label  int      `json:"label"`
	Width  int      `json:"width,omitempty"`
	Height int      `json:"height,omitempty"`
	Boxes  [][4]int `json:"boxes,omitempty"` // inclusive x0, y0, x1, y1
	Masks  []string `json:"masks,omitempty"`
	Ignore string   `json:"ignore,omitempty"`
}

// parseManifest decodes and validates a JSON manifest.
func parseManifest(r io.Reader, name string) (*Dataset, error) {
	var m manifest
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, &ParseError{File: name, Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
	}
	if m.SchemaVersion != 1 {
		return nil, &ParseError{File: name, Err: fmt.Errorf("%w: schema_version %d, want 1", ErrSyntax, m.SchemaVersion)}
	}
	d := &Dataset{}
	seen := map[string]bool{}
	for i, mi := range m.Images {
		bad := func(err error) error {
			return &ParseError{File: name, Err: fmt.Errorf("image %d (%q): %w", i, mi.ID, err)}
		}
		if mi.ID == "" || seen[mi.ID] {
			return nil, bad(fmt.Errorf("%w: empty or duplicate id", ErrSyntax))
		}
		seen[mi.ID] = true
		if mi.Label < 0 || mi.Width < 0 || mi.Height < 0 || (mi.Width == 0) != (mi.Height == 0) {
			return nil, bad(fmt.Errorf("%w: negative label or partial size", ErrSyntax))
		}
		it := Item{ID: mi.ID, Label: mi.Label, Size: image.Pt(mi.Width, mi.Height), Masks: mi.Masks, Ignore: mi.Ignore}
		if len(mi.Boxes) > 0 && it.Size == (image.Point{}) {
			return nil, bad(fmt.Errorf("%w: boxes without width and height", ErrSyntax))
		}
		for _, c := range mi.Boxes {
			b := image.Rectangle{Min: image.Pt(c[0], c[1]), Max: image.Pt(c[2]+1, c[3]+1)}
			if err := checkBox(b, it.Size); err != nil {
				return nil, bad(err)
			}
			it.Boxes = append(it.Boxes, b)
		}
		d.Items = append(d.Items, it)
	}
	return d, nil
}

// ReadManifest reads a JSON manifest, the alternative to the reference
// layout:
//
//	{"schema_version": 1, "images": [{"id": "a.jpg", "label": 3,
//	  "width": 500, "height": 375, "boxes": [[x0, y0, x1, y1]],
//	  "masks": ["m.png"], "ignore": "i.png"}]}
//
// Boxes are inclusive pixel coordinates in the original image, as in
// localization.txt.
func ReadManifest(ctx context.Context, path string) (*Dataset, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wsol: read manifest: %w", err)
	}
	defer f.Close()
	return parseManifest(f, filepath.Base(path))
}

// WriteManifest writes d as a JSON manifest to path.
func WriteManifest(ctx context.Context, path string, d *Dataset) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m := manifest{SchemaVersion: 1, Images: []manifestItem{}}
	for _, it := range d.Items {
		mi := manifestItem{ID: it.ID, Label: it.Label, Width: it.Size.X, Height: it.Size.Y, Masks: it.Masks, Ignore: it.Ignore}
		for _, b := range it.Boxes {
			mi.Boxes = append(mi.Boxes, inclusive(b))
		}
		m.Images = append(m.Images, mi)
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("wsol: encode manifest: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("wsol: write manifest: %w", err)
	}
	return nil
}
