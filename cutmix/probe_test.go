package cutmix_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutmixcam/cutmix-cam/cutmix"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func sources() []cutmix.Source {
	return []cutmix.Source{
		{ID: "a.png", Class: 0, Image: pattern(48, 32, 0)},
		{ID: "b.png", Class: 1, Image: pattern(48, 32, 1)},
		{ID: "c.png", Class: 2, Image: pattern(48, 32, 2)},
		{ID: "d.png", Class: 3, Image: pattern(64, 64, 3)}, // another size: resized
	}
}

// goldenPNG compares img with testdata/name per channel with tolerance 1,
// or rewrites it under -update.
func goldenPNG(t *testing.T, name string, img *image.NRGBA) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		writePNG(t, path, img)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open golden (regenerate with go test ./cutmix -update): %v", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	ok := want.Bounds() == img.Rect
	for y := img.Rect.Min.Y; ok && y < img.Rect.Max.Y; y++ {
		for x := img.Rect.Min.X; ok && x < img.Rect.Max.X; x++ {
			r, g, b, a := want.At(x, y).RGBA()
			w := [4]int{int(r >> 8), int(g >> 8), int(b >> 8), int(a >> 8)}
			o := img.PixOffset(x, y)
			for c := range 4 {
				if d := int(img.Pix[o+c]) - w[c]; d < -1 || d > 1 {
					t.Errorf("%s: pixel (%d, %d) channel %d = %d, want %d ± 1", name, x, y, c, img.Pix[o+c], w[c])
					ok = false
				}
			}
		}
	}
	if !ok {
		got := filepath.Join(t.TempDir(), name)
		writePNG(t, got, img)
		t.Errorf("%s differs from golden (bounds %v vs %v); got written to %s", name, img.Rect, want.Bounds(), got)
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// goldenJSON compares the manifest with testdata/name, floats within 1e-12.
func goldenJSON(t *testing.T, name string, m cutmix.Manifest) {
	t.Helper()
	path := filepath.Join("testdata", name)
	got, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (regenerate with go test ./cutmix -update): %v", err)
	}
	var want cutmix.Manifest
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, m, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		out := filepath.Join(t.TempDir(), name)
		_ = os.WriteFile(out, got, 0o644)
		t.Errorf("%s (-want +got):\n%s\ngot written to %s", name, diff, out)
	}
}

func TestProbesGolden(t *testing.T) {
	tests := []struct {
		name string
		p    cutmix.Probe
	}{
		{"cutmix", cutmix.Probe{Seed: 1, Count: 6}},
		{"cutmix_gaussian_onehot", cutmix.Probe{Seed: 2, Count: 4, Sampler: cutmix.Sampler{Center: cutmix.CenterGaussian, Sigma: 0.1, Label: cutmix.LabelOneHot}}},
		{"mixup", cutmix.Probe{Seed: 3, Count: 4, Sampler: cutmix.Sampler{Method: cutmix.Mixup}}},
		{"cutout_noise", cutmix.Probe{Seed: 4, Count: 4, Sampler: cutmix.Sampler{Method: cutmix.Cutout, Fill: cutmix.FillNoise}}},
		{"cutmix_fixed_fill_32", cutmix.Probe{Seed: 5, Count: 4, Size: image.Pt(32, 32), Sampler: cutmix.Sampler{Fixed: image.Pt(16, 16), Fit: cutmix.FitFill}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := cutmix.Probes(sources(), tc.p)
			if err != nil {
				t.Fatal(err)
			}
			sheet, err := cutmix.ContactSheet(set, cutmix.Sheet{Cell: 64})
			if err != nil {
				t.Fatal(err)
			}
			goldenPNG(t, tc.name+"_sheet.png", sheet)
			goldenJSON(t, tc.name+"_manifest.golden", set.Manifest)
			checkManifest(t, set)
		})
	}
}

// checkManifest checks each record against its image and the sources.
func checkManifest(t *testing.T, set *cutmix.ProbeSet) {
	t.Helper()
	m := set.Manifest
	if m.SchemaVersion != cutmix.SchemaVersion || len(m.Probes) != m.Count || len(set.Images) != m.Count {
		t.Fatalf("manifest header %+v with %d images", m, len(set.Images))
	}
	for i, r := range m.Probes {
		b := image.Rect(0, 0, r.Width, r.Height)
		if set.Images[i].Rect != b {
			t.Errorf("probe %d: image %v, record %v", i, set.Images[i].Rect, b)
		}
		within(t, "record box", r.Rect(), b)
		if r.Method != "mixup" {
			want := 1 - float64(r.Rect().Dx()*r.Rect().Dy())/float64(r.Width*r.Height)
			if r.Lambda != want {
				t.Errorf("probe %d: λ %v, want corrected %v", i, r.Lambda, want)
			}
		}
		if r.Partner != nil && r.Partner.Class == r.Target.Class {
			t.Errorf("probe %d: partner class equals target class %d", i, r.Target.Class)
		}
	}
}

func TestBetween(t *testing.T) {
	src := sources()
	set, err := cutmix.Between(src[3], src[0], []int{0, 8, 16, 32}, cutmix.FitStretch)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		box [4]int
		lam float64
	}{
		{[4]int{}, 1},
		{[4]int{20, 12, 28, 20}, 1 - 64.0/1536},
		{[4]int{16, 8, 32, 24}, 1 - 256.0/1536},
		{[4]int{8, 0, 40, 32}, 1 - 1024.0/1536},
	}
	for i, r := range set.Manifest.Probes {
		if r.Box != want[i].box || math.Abs(r.Lambda-want[i].lam) > 1e-15 || r.Target.ID != "a.png" || r.Partner.ID != "d.png" {
			t.Errorf("between %d: box %v λ %v target %s partner %s, want %v %v a.png d.png", i, r.Box, r.Lambda, r.Target.ID, r.Partner.ID, want[i].box, want[i].lam)
		}
	}
	sheet, err := cutmix.ContactSheet(set, cutmix.Sheet{Cell: 48, Columns: 4})
	if err != nil {
		t.Fatal(err)
	}
	goldenPNG(t, "between_sheet.png", sheet)
	for _, tc := range []struct {
		name  string
		sizes []int
		want  error
	}{
		{"too large", []int{33}, cutmix.ErrBoxTooLarge},
		{"negative", []int{-1}, cutmix.ErrOption},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := cutmix.Between(src[3], src[0], tc.sizes, cutmix.FitStretch); !errors.Is(err, tc.want) {
				t.Errorf("Between(%v) error = %v, want %v", tc.sizes, err, tc.want)
			}
		})
	}
}

func TestProbesErrors(t *testing.T) {
	src := sources()
	tests := []struct {
		name string
		src  []cutmix.Source
		p    cutmix.Probe
		want error
	}{
		{"one source", src[:1], cutmix.Probe{}, cutmix.ErrSources},
		{"empty image", append(src[:1:1], cutmix.Source{ID: "e", Image: image.NewNRGBA(image.Rectangle{})}), cutmix.Probe{}, cutmix.ErrEmpty},
		{"bad alpha", src, cutmix.Probe{Sampler: cutmix.Sampler{Alpha: -2}}, cutmix.ErrAlpha},
		{"fixed too large", src, cutmix.Probe{Sampler: cutmix.Sampler{Fixed: image.Pt(40, 40)}}, cutmix.ErrBoxTooLarge},
		{"negative count", src, cutmix.Probe{Count: -1}, cutmix.ErrOption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := cutmix.Probes(tc.src, tc.p); !errors.Is(err, tc.want) {
				t.Errorf("Probes error = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestDeterminism checks the same seed gives the same bytes, on disk and
// in batches, and another seed does not.
func TestDeterminism(t *testing.T) {
	write := func(seed uint64) map[string][]byte {
		t.Helper()
		set, err := cutmix.Probes(sources(), cutmix.Probe{Seed: seed, Count: 5, Sampler: cutmix.Sampler{SwitchProb: 0.5}})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := cutmix.Write(context.Background(), dir, set, cutmix.Sheet{}); err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[e.Name()] = b
		}
		return files
	}
	a, b, c := write(11), write(11), write(12)
	if len(a) != 5+2 {
		names := make([]string, 0, len(a))
		for n := range a {
			names = append(names, n)
		}
		t.Errorf("Write made files %v, want 5 probes, %s and %s (no temporaries)", names, cutmix.ManifestFile, cutmix.SheetFile)
	}
	if !cmp.Equal(a, b) {
		t.Error("same seed wrote different bytes")
	}
	if bytes.Equal(a[cutmix.ManifestFile], c[cutmix.ManifestFile]) {
		t.Error("seeds 11 and 12 wrote the same manifest")
	}
	var m cutmix.Manifest
	if err := json.Unmarshal(a[cutmix.ManifestFile], &m); err != nil || m.SchemaVersion != 1 || m.Seed != 11 {
		t.Errorf("manifest round trip: %+v, %v", m, err)
	}
	if !strings.Contains(string(a[cutmix.ManifestFile]), `"schema_version": 1`) {
		t.Error("manifest lacks schema_version")
	}

	batch := func(seed uint64) []float32 {
		shape := cutmix.Shape{N: 8, C: 3, H: 16, W: 16}
		s := cutmix.Sampler{Mode: cutmix.ModeElem, SwitchProb: 0.3, Src: newPCG(seed)}
		draws := make([]cutmix.Draw, shape.N)
		if err := s.Plan(draws, shape.W, shape.H); err != nil {
			t.Fatal(err)
		}
		dst := make([]float32, shape.Len())
		if err := cutmix.Apply(dst, noiseBatch(shape.Len(), 1), shape, draws); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	if !cmp.Equal(batch(5), batch(5)) || cmp.Equal(batch(5), batch(6)) {
		t.Error("batch mixing: same seed differs or different seeds agree")
	}
}

func TestWriteErrors(t *testing.T) {
	set, err := cutmix.Probes(sources(), cutmix.Probe{Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := cutmix.Write(ctx, t.TempDir(), set, cutmix.Sheet{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with cancelled ctx = %v, want context.Canceled", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cutmix.Write(context.Background(), filepath.Join(file, "sub"), set, cutmix.Sheet{}); err == nil {
		t.Error("Write under a regular file succeeded")
	}
	set.Manifest.Probes[0].File = "../escape.png"
	if err := cutmix.Write(context.Background(), t.TempDir(), set, cutmix.Sheet{}); !errors.Is(err, cutmix.ErrOption) {
		t.Errorf("Write with file ../escape.png = %v, want ErrOption", err)
	}
	if _, err := cutmix.ContactSheet(&cutmix.ProbeSet{}, cutmix.Sheet{}); !errors.Is(err, cutmix.ErrEmpty) {
		t.Errorf("ContactSheet(empty) = %v, want ErrEmpty", err)
	}
}
