package wsol

import (
	"bytes"
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func FuzzParseIDs(f *testing.F) {
	f.Add(cubLike[FileImageIDs])
	f.Add("a\n\nb\n")
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := parseIDs(strings.NewReader(s), FileImageIDs)
		if err != nil {
			return
		}
		back, err := parseIDs(strings.NewReader(strings.Join(ids, "\n")), FileImageIDs)
		if err != nil || !cmp.Equal(ids, back) {
			t.Fatalf("re-parse of %q: %v, %v", ids, back, err)
		}
	})
}

func FuzzParseLabels(f *testing.F) {
	f.Add(cubLike[FileClassLabels])
	f.Add("a,-1")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseLabels(strings.NewReader(s), FileClassLabels)
		if err != nil {
			return
		}
		for id, v := range m {
			if id == "" || v < 0 {
				t.Fatalf("parseLabels(%q) gave %q -> %d", s, id, v)
			}
		}
	})
}

func FuzzParseSizes(f *testing.F) {
	f.Add(cubLike[FileImageSizes])
	f.Add("a,0,3")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseSizes(strings.NewReader(s), FileImageSizes)
		if err != nil {
			return
		}
		for id, p := range m {
			if id == "" || p.X <= 0 || p.Y <= 0 {
				t.Fatalf("parseSizes(%q) gave %q -> %v", s, id, p)
			}
		}
	})
}

func FuzzParseLocalization(f *testing.F) {
	f.Add(cubLike[FileLocalization])
	f.Add(openImagesLike[FileLocalization])
	f.Add("a,4,2,1,3")
	f.Fuzz(func(t *testing.T, s string) {
		loc, err := parseLocalization(strings.NewReader(s), FileLocalization)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("parseLocalization error %v without a line", err)
			}
			return
		}
		for _, bs := range loc.boxes {
			for _, b := range bs {
				if checkBox(b, image.Point{}) != nil {
					t.Fatalf("parseLocalization(%q) accepted box %v", s, b)
				}
			}
		}
		if len(loc.boxes) > 0 && len(loc.masks) > 0 {
			t.Fatalf("parseLocalization(%q) mixed boxes and masks", s)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add(`{"schema_version": 1, "images": [{"id": "a.jpg", "label": 2, "width": 10, "height": 20, "boxes": [[1, 2, 4, 3]]}]}`)
	f.Add(`{"schema_version": 1, "images": [{"id": "a", "masks": ["m.png"], "ignore": "i.png"}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseManifest(strings.NewReader(s), "m.json")
		if err != nil {
			return
		}
		for _, it := range d.Items {
			for _, b := range it.Boxes {
				if checkBox(b, it.Size) != nil {
					t.Fatalf("parseManifest accepted box %v in %v", b, it.Size)
				}
			}
		}
	})
}

func FuzzReadPartial(f *testing.F) {
	a, err := NewAccumulator(Config{Interval: 0.25})
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WritePartial(&buf, a.Partial(Shard{1, 3}, "ds")); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.String())
	f.Add(`{"schema_version": 1}`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ReadPartial(strings.NewReader(s))
		if err != nil {
			return
		}
		// A valid partial always merges with itself only once and yields a
		// result or a metric error, never a panic.
		if _, err := Merge(p); err != nil {
			t.Fatalf("Merge(valid partial) error = %v", err)
		}
		p.Result() //nolint:errcheck // only checking for panics
	})
}

func FuzzIoU(f *testing.F) {
	f.Add(1, 2, 5, 6, 3, 1, 4, 5)
	f.Fuzz(func(t *testing.T, ax, ay, aw, ah, bx, by, bw, bh int) {
		clip := func(v int) int { return ((v % 1000) + 1000) % 1000 }
		a := image.Rect(clip(ax), clip(ay), clip(ax)+clip(aw)+1, clip(ay)+clip(ah)+1)
		b := image.Rect(clip(bx), clip(by), clip(bx)+clip(bw)+1, clip(by)+clip(bh)+1)
		v, w := IoU(a, b), IoU(b, a)
		if v != w || v < 0 || v > 1 || math.IsNaN(v) {
			t.Fatalf("IoU(%v, %v) = %v, reverse %v", a, b, v, w)
		}
		if IoU(a, a) != 1 {
			t.Fatalf("IoU(%v, itself) = %v", a, IoU(a, a))
		}
	})
}

// FuzzSinglePass checks the single-pass evaluator against the oracle on
// fuzzed small maps (w×h bytes, row by row; missing bytes are 0).
func FuzzSinglePass(f *testing.F) {
	f.Add(uint8(5), uint8(4), []byte{0, 0, 0, 0, 0, 0, 102, 102, 102, 153, 0, 102, 255, 204, 153, 0, 102, 102, 102, 153}, uint8(1), uint8(1), uint8(3), uint8(2))
	for _, m := range structuredMaps() {
		f.Add(uint8(m.w-1), uint8(m.h-1), m.pix, uint8(0), uint8(0), uint8(m.w/2), uint8(m.h/2))
	}
	f.Fuzz(func(t *testing.T, w8, h8 uint8, pix []byte, bx, by, bw, bh uint8) {
		w, h := int(w8%16)+1, int(h8%16)+1
		m := Map{W: w, H: h, Pix: make([]float64, w*h)}
		for i := range m.Pix {
			if i < len(pix) {
				m.Pix[i] = float64(pix[i]) / 255
			}
		}
		x0, y0 := int(bx)%w, int(by)%h
		box := image.Rect(x0, y0, x0+1+int(bw)%(w-x0), y0+1+int(bh)%(h-y0))
		mask := &Mask{W: w, H: h, Pix: make([]uint8, w*h)}
		for i := range mask.Pix {
			mask.Pix[i] = uint8(i % 3)
		}
		s := Sample{Map: m, Boxes: []image.Rectangle{box}, Mask: mask}
		cfg, err := Config{Interval: 0.01}.norm()
		if err != nil {
			t.Fatal(err)
		}
		want, got := newStats(cfg), newStats(cfg)
		oracleAdd(cfg, &want, s)
		if err := newWorker(cfg).add(&got, &s); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("single pass != oracle for %dx%d %v:\n%s", w, h, m.Pix, diff)
		}
	})
}

// fuzzMap is a w×h map of uint8 scores, row by row, for the fuzz seeds.
type fuzzMap struct {
	w, h int
	pix  []byte
}

// structuredMaps returns small maps with the shapes that stress the hole
// and component bookkeeping: nested rings (nested holes), rings that touch
// the border, a checkerboard (many 8-connected diagonal links, many
// 4-connected holes), plateaus, and 1×1 and 1×N maps.
func structuredMaps() []fuzzMap {
	var out []fuzzMap
	rings := func(n int, border bool) fuzzMap {
		m := fuzzMap{w: n, h: n, pix: make([]byte, n*n)}
		for y := range n {
			for x := range n {
				d := min(x, y, n-1-x, n-1-y) // ring index from the border
				if border {
					d++ // the outermost ring is foreground
				}
				m.pix[y*n+x] = byte(40 * (d % 2) * (1 + d/2))
			}
		}
		return m
	}
	out = append(out, rings(11, false), rings(12, true))
	cb := fuzzMap{w: 9, h: 7, pix: make([]byte, 63)}
	for i := range cb.pix {
		if (i%9+i/9)%2 == 0 {
			cb.pix[i] = 255
		}
	}
	out = append(out, cb)
	plateau := fuzzMap{w: 8, h: 8, pix: make([]byte, 64)}
	for i := range plateau.pix {
		plateau.pix[i] = byte(51 * ((i%8)/3 + (i/8)/3))
	}
	out = append(out, plateau,
		fuzzMap{w: 1, h: 1, pix: []byte{200}},
		fuzzMap{w: 7, h: 1, pix: []byte{0, 255, 0, 128, 128, 0, 255}},
		fuzzMap{w: 1, h: 6, pix: []byte{9, 9, 0, 255, 3, 255}})
	return out
}

// FuzzSinglePassKinds checks the single-pass evaluator against the oracle
// on generated maps of every kind randomSample draws (few levels with many
// ties and holes, noise, smooth CAM-like, sparse blobs), at fuzzed sizes
// and grids.
func FuzzSinglePassKinds(f *testing.F) {
	f.Add(uint64(1), uint8(0), uint8(0), uint8(0))
	f.Add(uint64(2), uint8(40), uint8(30), uint8(1))
	f.Add(uint64(3), uint8(0), uint8(63), uint8(2))
	f.Add(uint64(4), uint8(63), uint8(0), uint8(3))
	f.Fuzz(func(t *testing.T, seed uint64, w8, h8, grid uint8) {
		r := rand.New(rand.NewPCG(seed, 5))
		w, h := int(w8%64)+1, int(h8%64)+1
		cfg, err := Config{Interval: []float64{0.001, 0.01, 0.05, 0.3}[grid%4], Sigma: 0.15}.norm()
		if err != nil {
			t.Fatal(err)
		}
		want, got := newStats(cfg), newStats(cfg)
		wk := newWorker(cfg)
		for range 3 {
			s := randomSample(r, w, h)
			oracleAdd(cfg, &want, s)
			if err := wk.add(&got, &s); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("single pass != oracle for seed %d, %dx%d:\n%s", seed, w, h, diff)
		}
	})
}

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/1", "3/4", "4/4", "-1/2", "1/0", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err != nil {
			return
		}
		back, err := ParseShard(sh.String())
		if err != nil || back != sh || sh.Index < 0 || sh.Index >= sh.Count {
			t.Fatalf("ParseShard(%q) = %v; round trip %v, %v", s, sh, back, err)
		}
		if !sh.Contains(sh.Index) {
			t.Fatalf("%v does not contain its own index", sh)
		}
	})
}
