package cam

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func TestColormapEndpoints(t *testing.T) {
	tests := []struct {
		c    Colormap
		v    float64
		want color.NRGBA
	}{
		{Turbo, 0, color.NRGBA{48, 18, 59, 255}},
		{Turbo, 1, color.NRGBA{122, 4, 3, 255}},
		{Turbo, -3, color.NRGBA{48, 18, 59, 255}},
		{Turbo, math.NaN(), color.NRGBA{48, 18, 59, 255}},
		{Viridis, 0, color.NRGBA{0x44, 0x01, 0x54, 255}},
		{Viridis, 1, color.NRGBA{0xfd, 0xe7, 0x25, 255}},
		{Viridis, 2, color.NRGBA{0xfd, 0xe7, 0x25, 255}},
		{Jet, 0, color.NRGBA{0, 0, 128, 255}},
		{Jet, 1, color.NRGBA{128, 0, 0, 255}},
		// Index 127: 255·r = 125.5 → 126, g = 1, 255·b = 129.5 → 130.
		{Jet, 0.5, color.NRGBA{126, 255, 130, 255}},
		// Index 96 is jet's first non-zero red: 255·r = 1.5 → 2, 255·b = 253.5 → 254.
		{Jet, 96.5 / 255, color.NRGBA{2, 255, 254, 255}},
	}
	for _, tc := range tests {
		t.Run(tc.c.String(), func(t *testing.T) {
			if got := tc.c.At(tc.v); got != tc.want {
				t.Errorf("%v.At(%v) = %v, want %v", tc.c, tc.v, got, tc.want)
			}
		})
	}
	for _, name := range []string{"turbo", "Viridis", "jet", ""} {
		if c, ok := ParseColormap(name); !ok || (name != "" && c.String() != map[string]string{"turbo": "turbo", "Viridis": "viridis", "jet": "jet"}[name]) {
			t.Errorf("ParseColormap(%q) = %v, %v", name, c, ok)
		}
	}
	if _, ok := ParseColormap("hot"); ok {
		t.Error(`ParseColormap("hot") succeeded`)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want []float64
	}{
		{"range", []float64{-1, 0, 3}, []float64{0, 0.25, 1}},
		{"constant", []float64{2, 2, 2}, []float64{0, 0, 0}},
		{"nan", []float64{0, math.NaN(), 1}, []float64{0, 0, 0}},
		{"inf", []float64{0, math.Inf(1), 1}, []float64{0, 0, 0}},
		{"empty", []float64{}, []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Map{W: len(tc.in), H: 1, V: append([]float64(nil), tc.in...)}
			got := m.Normalized()
			closeAll(t, "Normalized", got.V, tc.want, 0)
			if tc.name == "range" && m.V[0] != -1 {
				t.Error("Normalized modified its receiver")
			}
		})
	}
}

func TestScoremap(t *testing.T) {
	// The bicubic resize of (0, 1) to 4 pixels overshoots (OpenCV:
	// −0.10547, 0.22656, 0.77344, 1.10547); the min-max removes it.
	m := Map{W: 2, H: 1, V: []float64{0, 1}}
	got := m.Scoremap(4, 1, Cubic)
	lo, hi := -0.10546875, 1.10546875
	want := []float64{0, (0.2265625 - lo) / (hi - lo), (0.7734375 - lo) / (hi - lo), 1}
	closeAll(t, "Scoremap cubic", got.V, want, 1e-6)
	got = m.Scoremap(4, 1, Linear)
	closeAll(t, "Scoremap linear", got.V, []float64{0, 0.25, 0.75, 1}, 1e-12)
	got = m.Scoremap(4, 1, Nearest)
	closeAll(t, "Scoremap nearest", got.V, []float64{0, 0, 1, 1}, 0)
	if got.At(3, 0) != 1 {
		t.Errorf("At(3, 0) = %v, want 1", got.At(3, 0))
	}
}

// testImage returns a deterministic w×h colour gradient.
func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(255 * x / (w - 1)), uint8(255 * y / (h - 1)), 128, 255})
		}
	}
	return img
}

// testMap returns a 4×3 map with a peak off centre.
func testMap() Map {
	return Map{W: 4, H: 3, V: []float64{0, 1, 2, 1, 1, 3, 5, 2, 0, 2, 3, 1}}
}

func TestGolden(t *testing.T) {
	img := testImage(32, 24)
	tests := []struct {
		name string
		got  *image.NRGBA
	}{
		{"overlay_turbo", Overlay(img, testMap(), Style{})},
		{"overlay_jet_cubic", Overlay(img, testMap(), Style{Colormap: Jet, Alpha: 0.7, Interp: Cubic})},
		{"panel_viridis", Panel(img, []Map{testMap(), testMap().Resized(8, 6, Nearest)}, Style{Colormap: Viridis, Gap: 2})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", tc.name+".png")
			if *update {
				var buf bytes.Buffer
				if err := png.Encode(&buf, tc.got); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatalf("%v (regenerate with go test ./cam -update)", err)
			}
			defer f.Close()
			want, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			if !sameImage(tc.got, want) {
				out := filepath.Join(t.TempDir(), tc.name+".png")
				var buf bytes.Buffer
				_ = png.Encode(&buf, tc.got)
				_ = os.WriteFile(out, buf.Bytes(), 0o644)
				t.Errorf("%s differs from %s by more than 1 per channel; got written to %s", tc.name, path, out)
			}
		})
	}
}

// sameImage compares per channel with a tolerance of 1.
func sameImage(got *image.NRGBA, want image.Image) bool {
	if got.Bounds() != want.Bounds() {
		return false
	}
	b := got.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g := got.NRGBAAt(x, y)
			w := color.NRGBAModel.Convert(want.At(x, y)).(color.NRGBA)
			for _, d := range []int{int(g.R) - int(w.R), int(g.G) - int(w.G), int(g.B) - int(w.B), int(g.A) - int(w.A)} {
				if d < -1 || d > 1 {
					return false
				}
			}
		}
	}
	return true
}

func TestPanelLayout(t *testing.T) {
	img := testImage(10, 6)
	p := Panel(img, []Map{testMap(), testMap()}, Style{Gap: 3})
	if got, want := p.Bounds(), image.Rect(0, 0, 36, 15); got != want {
		t.Fatalf("Panel bounds = %v, want %v", got, want)
	}
	// Gap pixels are white; the first cell is the image.
	if c := p.NRGBAAt(10, 0); c != (color.NRGBA{255, 255, 255, 255}) {
		t.Errorf("gap pixel = %v, want white", c)
	}
	if c := p.NRGBAAt(9, 5); c != img.NRGBAAt(9, 5) {
		t.Errorf("image cell pixel = %v, want %v", c, img.NRGBAAt(9, 5))
	}
	if got := Panel(img, nil, Style{}); got.Bounds() != img.Bounds() {
		t.Errorf("Panel with no maps: bounds %v", got.Bounds())
	}
}
