package wsol

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"0/1", Shard{0, 1}, true},
		{"3/4", Shard{3, 4}, true},
		{"4/4", Shard{}, false},
		{"-1/4", Shard{}, false},
		{"1/0", Shard{}, false},
		{"1", Shard{}, false},
		{"a/b", Shard{}, false},
	}
	for _, tc := range tests {
		got, err := ParseShard(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if got := (Shard{1, 3}).Indices(8); !cmp.Equal(got, []int{1, 4, 7}) {
		t.Errorf("Shard{1,3}.Indices(8) = %v, want [1 4 7]", got)
	}
	if got := (Shard{}).Indices(2); !cmp.Equal(got, []int{0, 1}) || (Shard{}).String() != "0/1" {
		t.Errorf("zero Shard: Indices(2) = %v, String %q", got, Shard{}.String())
	}
	if got := (Shard{5, 6}).Indices(3); got == nil || len(got) != 0 {
		t.Errorf("Shard{5,6}.Indices(3) = %#v, want empty", got)
	}
}

// memSource is an in-memory Source.
type memSource []Sample

func (m memSource) Len() int { return len(m) }
func (m memSource) Sample(_ context.Context, i int) (Sample, error) {
	return m[i], nil
}

// TestShardsMergeExactly checks that merging the partials of all shards,
// through JSON, gives exactly the single-run statistics and result.
func TestShardsMergeExactly(t *testing.T) {
	samples := memSource(randomSamples(23, 18, 14))
	cfg := Config{Interval: 0.01, Workers: 2}
	whole, err := Run(context.Background(), cfg, samples, Shard{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	var parts []Partial
	for i := n - 1; i >= 0; i-- { // order must not matter
		a, err := Run(context.Background(), cfg, samples, Shard{i, n})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WritePartial(&buf, a.Partial(Shard{i, n}, "ds")); err != nil {
			t.Fatal(err)
		}
		p, err := ReadPartial(&buf)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	merged, err := Merge(parts...)
	if err != nil {
		t.Fatal(err)
	}
	if !merged.Complete() {
		t.Errorf("merged partial covers %v, want all %d shards", merged.Shards, n)
	}
	if diff := cmp.Diff(whole.Stats(), merged.Stats); diff != "" {
		t.Errorf("merged stats != single run (-single +merged):\n%s", diff)
	}
	want, err := whole.Result()
	if err != nil {
		t.Fatal(err)
	}
	got, err := merged.Result()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged result != single run (-single +merged):\n%s", diff)
	}
	// Incomplete merges are allowed but say so.
	half, err := Merge(parts[:2]...)
	if err != nil || half.Complete() {
		t.Errorf("Merge(2 of 4) = complete %v, %v", half.Complete(), err)
	}
}

func TestMergeRefuses(t *testing.T) {
	samples := memSource(randomSamples(4, 8, 8))
	run := func(cfg Config, s Shard, ds string) Partial {
		t.Helper()
		a, err := Run(context.Background(), cfg, samples, s)
		if err != nil {
			t.Fatal(err)
		}
		return a.Partial(s, ds)
	}
	base := run(Config{Interval: 0.01}, Shard{0, 2}, "ds")
	other := run(Config{Interval: 0.01}, Shard{1, 2}, "ds")
	tampered := other
	tampered.ConfigHash = strings.Repeat("0", 32)
	tests := []struct {
		name  string
		parts []Partial
	}{
		{"interval", []Partial{base, run(Config{Interval: 0.02}, Shard{1, 2}, "ds")}},
		{"iou", []Partial{base, run(Config{Interval: 0.01, IoUThresholds: []int{50}}, Shard{1, 2}, "ds")}},
		{"dataset", []Partial{base, run(Config{Interval: 0.01}, Shard{1, 2}, "other")}},
		{"duplicate", []Partial{base, base}},
		{"count", []Partial{base, run(Config{Interval: 0.01}, Shard{1, 3}, "ds")}},
		{"hash", []Partial{base, tampered}},
		{"none", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Merge(tc.parts...); !errors.Is(err, ErrMismatch) {
				t.Errorf("Merge() error = %v, want ErrMismatch", err)
			}
		})
	}
	if _, err := Merge(base, other); err != nil {
		t.Errorf("Merge(valid) error = %v", err)
	}
	var buf bytes.Buffer
	if err := WritePartial(&buf, tampered); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPartial(&buf); !errors.Is(err, ErrMismatch) {
		t.Errorf("ReadPartial(tampered) error = %v, want ErrMismatch", err)
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFilesMasks builds an OpenImages-like folder: two instance masks and
// an ignore mask of another size, nearest-resized to 4x4.
func TestFilesMasks(t *testing.T) {
	root := t.TempDir()
	// 8x2 masks resized to 4x4: source x = floor(dx*2), y = floor(dy*0.5).
	m1 := image.NewGray(image.Rect(0, 0, 8, 2))
	m1.SetGray(0, 0, color.Gray{Y: 255}) // -> (0,0), (0,1)
	m2 := image.NewGray(image.Rect(0, 0, 8, 2))
	m2.SetGray(6, 1, color.Gray{Y: 1}) // grey 1 > 0.5 -> (3,2), (3,3)
	ign := image.NewGray(image.Rect(0, 0, 4, 4))
	for x := range 4 {
		ign.SetGray(x, 0, color.Gray{Y: 9}) // row 0 ignored except foreground
	}
	writePNG(t, filepath.Join(root, "masks", "a_m1.png"), m1)
	writePNG(t, filepath.Join(root, "masks", "a_m2.png"), m2)
	writePNG(t, filepath.Join(root, "masks", "a_ignore.png"), ign)
	got, err := LoadMask(context.Background(), filepath.Join(root, "masks"), []string{"a_m1.png", "a_m2.png"}, "a_ignore.png", image.Pt(4, 4))
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{
		1, 255, 255, 255,
		1, 0, 0, 0,
		0, 0, 0, 1,
		0, 0, 0, 1,
	}
	if diff := cmp.Diff(want, got.Pix); diff != "" {
		t.Errorf("LoadMask mismatch (-want +got):\n%s", diff)
	}
	if _, err := LoadMask(context.Background(), root, []string{"missing.png"}, "", image.Pt(4, 4)); err == nil {
		t.Error("LoadMask(missing) error = nil")
	}
}

// TestFilesRun scores maps stored as <root>/<id>.npy with boxes scaled from
// the original image size, and reports a missing map.
func TestFilesRun(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := &Dataset{Items: []Item{
		{ID: "val/a.jpeg", Label: 1, Size: image.Pt(8, 8), Boxes: []image.Rectangle{image.Rect(2, 2, 6, 6)}},
		{ID: "val/b.jpeg", Label: 2, Size: image.Pt(8, 8), Boxes: []image.Rectangle{image.Rect(0, 0, 8, 8)}},
	}}
	// 4x4 maps: a has a 2x2 blob at (1,1); b is NaN.
	a := constMap(4, 4, 0)
	for _, i := range []int{5, 6, 9, 10} {
		a.Pix[i] = 1
	}
	b := constMap(4, 4, math.NaN())
	for id, m := range map[string]Map{"val/a.jpeg": a, "val/b.jpeg": b} {
		if err := SaveMap(ctx, filepath.Join(root, id+".npy"), m); err != nil {
			t.Fatal(err)
		}
	}
	src := &Files{Data: d, CAMRoot: root, Size: image.Pt(4, 4), Pred: map[string]int{"val/a.jpeg": 1}}
	s, err := src.Sample(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Box (2,2)-(5,5) inclusive in 8x8 -> int(c*0.5): (1,1)-(2,2).
	if diff := cmp.Diff([]image.Rectangle{ref(1, 1, 2, 2)}, s.Boxes); diff != "" {
		t.Errorf("scaled boxes mismatch (-want +got):\n%s", diff)
	}
	acc, err := Run(ctx, Config{Interval: 0.5}, src, Shard{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := acc.Result()
	if err != nil {
		t.Fatal(err)
	}
	// a: blob box [1,1,3,3] vs GT [1,1,2,2]: IoU 4/9 -> misses 50, hits 30.
	// b: NaN -> NoBox vs [0,0,3,3]: IoU 1/16.
	if r.NaNMaps != 1 || r.Box[0].V2[0] != 50 || r.Box[1].V2[0] != 0 {
		t.Errorf("Run: NaNMaps %d, V2@30 %v, V2@50 %v; want 1, [50 ..], [0 ..]", r.NaNMaps, r.Box[0].V2, r.Box[1].V2)
	}
	if r.PredImages != 1 {
		t.Errorf("PredImages = %d, want 1", r.PredImages)
	}
	src.Size = image.Pt(8, 8)
	if _, err := Run(ctx, Config{}, src, Shard{}); !errors.Is(err, ErrMapSize) {
		t.Errorf("Run(map of wrong size) error = %v, want ErrMapSize", err)
	}
	src.Prepare = true
	acc, err = Run(ctx, Config{}, src, Shard{})
	if err != nil {
		t.Fatalf("Run(Prepare) error = %v", err)
	}
	if r, err := acc.Result(); err != nil || r.NaNMaps != 1 {
		t.Errorf("Run(Prepare): NaNMaps %d, %v; want 1", r.NaNMaps, err)
	}
	d.Items = append(d.Items, Item{ID: "val/missing.jpeg"})
	_, err = Run(ctx, Config{}, src, Shard{})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "val/missing.jpeg") {
		t.Errorf("Run(missing map) error = %v, want not-exist naming the id", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Run(cctx, Config{}, src, Shard{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run(cancelled) error = %v, want context.Canceled", err)
	}
}

func TestPrepare(t *testing.T) {
	raw := Map{W: 2, H: 2, Pix: []float64{-1, 0, 1, 3}}
	m, nan := Prepare(raw, image.Pt(8, 8))
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range m.Pix {
		lo, hi = min(lo, v), max(hi, v)
	}
	if nan || lo != 0 || hi != 1 || m.W != 8 || m.H != 8 {
		t.Errorf("Prepare: nan %v, range [%v, %v], size %dx%d; want false, [0, 1], 8x8", nan, lo, hi, m.W, m.H)
	}
	for _, tc := range []struct {
		name string
		raw  Map
		nan  bool
	}{
		{"constant", constMap(3, 3, 2), false},
		{"nan", Map{W: 1, H: 2, Pix: []float64{1, math.NaN()}}, true},
	} {
		m, nan := Prepare(tc.raw, image.Pt(4, 4))
		if nan != tc.nan || !cmp.Equal(m.Pix, make([]float64, 16)) {
			t.Errorf("Prepare(%s) = %v, %v; want zeros, %v", tc.name, m.Pix, nan, tc.nan)
		}
	}
}

func TestLoadMapErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.npy")
	if err := os.WriteFile(p, []byte("not npy"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMap(ctx, p); err == nil {
		t.Error("LoadMap(garbage) error = nil")
	}
	if err := SaveMap(ctx, p, Map{W: 2, H: 1, Pix: []float64{1}}); !errors.Is(err, ErrMapSize) {
		t.Errorf("SaveMap(bad size) error = %v", err)
	}
}
