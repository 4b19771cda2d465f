package preprocess_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
)

func fixture(name string) string { return filepath.Join("..", "..", "testdata", "images", name) }

func TestLoad(t *testing.T) {
	tests := []struct {
		file string
		w, h int
		want error
	}{
		{"shapes.png", 32, 32, nil},
		{"shapes.jpg", 32, 32, nil},
		{"shapes.gif", 32, 32, nil},
		{"gray.png", 24, 24, nil},
		{"bomb.png", 0, 0, preprocess.ErrTooLarge},
		{"corrupt.png", 0, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			img, err := preprocess.Load(fixture(tc.file), 0)
			if tc.w == 0 {
				if err == nil {
					t.Fatalf("Load(%s) succeeded, want an error", tc.file)
				}
				if tc.want != nil && !errors.Is(err, tc.want) {
					t.Errorf("Load(%s) = %v, want %v", tc.file, err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Errorf("Load(%s) size %v, want %d×%d", tc.file, b, tc.w, tc.h)
			}
		})
	}
	if _, err := preprocess.Load(filepath.Join("..", "..", "testdata", "models", "tiny_cam.onnx"), 0); !errors.Is(err, preprocess.ErrFormat) {
		t.Errorf("Load(model file) = %v, want ErrFormat", err)
	}
	if _, err := preprocess.Load(fixture("shapes.png"), 100); !errors.Is(err, preprocess.ErrTooLarge) {
		t.Errorf("Load with a 100-pixel cap = %v, want ErrTooLarge", err)
	}
}

// pixels builds a w×h NRGBA image from a function.
func pixels(w, h int, f func(x, y int) color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, f(x, y))
		}
	}
	return img
}

func TestTensorValues(t *testing.T) {
	// Two pixels, no resize: values follow (p/255 − mean)/std per channel.
	img := pixels(2, 1, func(x, y int) color.NRGBA {
		if x == 0 {
			return color.NRGBA{255, 0, 51, 255}
		}
		return color.NRGBA{0, 128, 255, 10} // alpha is ignored
	})
	tests := []struct {
		name     string
		norm     preprocess.Norm
		channels int
		want     []float32
	}{
		{"unit", preprocess.Unit, 3, []float32{1, 0, 0, 128.0 / 255, 0.2, 1}},
		{"none", preprocess.None, 3, []float32{255, 0, 0, 128, 51, 255}},
		{"imagenet", preprocess.ImageNet, 3, []float32{
			(1 - 0.485) / 0.229, (0 - 0.485) / 0.229,
			(0 - 0.456) / 0.224, (128.0/255 - 0.456) / 0.224,
			(0.2 - 0.406) / 0.225, (1 - 0.406) / 0.225}},
		// PIL "L": (299·R + 587·G + 114·B)/1000 rounded: 255,0,51 → 82; 0,128,255 → 104.
		{"gray unit", preprocess.Unit, 1, []float32{82.0 / 255, 104.0 / 255}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := preprocess.Config{Width: 2, Height: 1, Channels: tc.channels, Norm: tc.norm}
			got := make([]float32, cfg.Len())
			if err := cfg.Tensor(got, img); err != nil {
				t.Fatal(err)
			}
			for i := range tc.want {
				if math.Abs(float64(got[i]-tc.want[i])) > 1e-6 {
					t.Errorf("value %d = %g, want %g", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestGrayImageToRGBModel(t *testing.T) {
	img, err := preprocess.Load(fixture("gray.png"), 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := preprocess.Config{Width: 24, Height: 24, Norm: preprocess.None}
	v := make([]float32, cfg.Len())
	if err := cfg.Tensor(v, img); err != nil {
		t.Fatal(err)
	}
	plane := 24 * 24
	for i := 0; i < plane; i++ {
		want := float32(10 * ((i % 24) + (i / 24)) % 256)
		if v[i] != want || v[plane+i] != want || v[2*plane+i] != want {
			t.Fatalf("pixel %d = %g,%g,%g, want %g in every channel", i, v[i], v[plane+i], v[2*plane+i], want)
		}
	}
}

func TestCropGeometry(t *testing.T) {
	// A 40×20 image: x < 20 black, x ≥ 20 white. Crop to 10×10 with ratio
	// 1 resizes to 20×10 and keeps columns 5..14, whose left half is black.
	img := pixels(40, 20, func(x, y int) color.NRGBA {
		if x < 20 {
			return color.NRGBA{0, 0, 0, 255}
		}
		return color.NRGBA{255, 255, 255, 255}
	})
	cfg := preprocess.Config{Width: 10, Height: 10, Channels: 1, Fit: preprocess.Crop, CropRatio: 1, Norm: preprocess.None}
	v := make([]float32, cfg.Len())
	if err := cfg.Tensor(v, img); err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 10; y++ {
		if v[y*10+0] != 0 || v[y*10+3] != 0 || v[y*10+6] != 255 || v[y*10+9] != 255 {
			t.Fatalf("row %d = %v, want black on the left and white on the right", y, v[y*10:y*10+10])
		}
	}
	// Warp keeps the whole width: the boundary sits at the middle column.
	cfg.Fit = preprocess.Warp
	if err := cfg.Tensor(v, img); err != nil {
		t.Fatal(err)
	}
	if v[0] != 0 || v[3] != 0 || v[6] != 255 || v[9] != 255 {
		t.Errorf("warp row 0 = %v", v[:10])
	}
}

func TestParseNorm(t *testing.T) {
	tests := []struct {
		in   string
		want preprocess.Norm
		ok   bool
	}{
		{"imagenet", preprocess.ImageNet, true},
		{"unit", preprocess.Unit, true},
		{"none", preprocess.None, true},
		{"0.5/0.25", preprocess.Norm{Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}}, true},
		{"0.1,0.2,0.3/1,2,3", preprocess.Norm{Mean: [3]float32{0.1, 0.2, 0.3}, Std: [3]float32{1, 2, 3}}, true},
		{"0.1,0.2/1", preprocess.Norm{}, false},
		{"0.5/0", preprocess.Norm{}, false},
		{"0.5/x", preprocess.Norm{}, false},
		{"nan/1", preprocess.Norm{}, false},
		{"bogus", preprocess.Norm{}, false},
	}
	for _, tc := range tests {
		got, err := preprocess.ParseNorm(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseNorm(%q) = %+v, %v; want %+v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestTensorErrors(t *testing.T) {
	img := pixels(4, 4, func(x, y int) color.NRGBA { return color.NRGBA{1, 2, 3, 255} })
	if err := (preprocess.Config{Width: 4, Height: 4}).Tensor(make([]float32, 5), img); err == nil {
		t.Error("Tensor into a short dst succeeded")
	}
	if err := (preprocess.Config{Width: 0, Height: 4}).Tensor(make([]float32, 48), img); err == nil {
		t.Error("Tensor with zero width succeeded")
	}
	if err := (preprocess.Config{Width: 4, Height: 4, Channels: 2}).Tensor(make([]float32, 48), img); err == nil {
		t.Error("Tensor with 2 channels succeeded")
	}
	if err := (preprocess.Config{Width: 4, Height: 4}).Tensor(make([]float32, 48), image.NewNRGBA(image.Rectangle{})); err == nil {
		t.Error("Tensor of an empty image succeeded")
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"shapes.png", "shapes.jpg", "shapes.gif", "gray.png", "bomb.png", "corrupt.png"} {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const cap = 1 << 16
		img, err := preprocess.Decode(bytes.NewReader(data), cap)
		if err != nil {
			return
		}
		b := img.Bounds()
		if b.Dx()*b.Dy() > cap || b.Empty() {
			t.Fatalf("decoded %v despite the %d-pixel cap", b, cap)
		}
	})
}

func ExampleConfig_Tensor() {
	img := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	img.SetNRGBA(0, 0, color.NRGBA{R: 255, G: 128, B: 0, A: 255})
	cfg := preprocess.Config{Width: 1, Height: 1, Norm: preprocess.ImageNet}
	v := make([]float32, cfg.Len())
	if err := cfg.Tensor(v, img); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.3f %.3f %.3f\n", v[0], v[1], v[2])
	// Output: 2.249 0.205 -1.804
}

func benchImage(w, h int) *image.NRGBA {
	return pixels(w, h, func(x, y int) color.NRGBA {
		return color.NRGBA{uint8(x * 7), uint8(y * 3), uint8(x ^ y), 255}
	})
}

func BenchmarkTensor(b *testing.B) {
	for _, size := range []int{224, 512} {
		src := benchImage(500, 375)
		cfg := preprocess.Config{Width: size, Height: size, Norm: preprocess.ImageNet}
		dst := make([]float32, cfg.Len())
		b.Run(fmt.Sprintf("resize500x375to%dpx", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := cfg.Tensor(dst, src); err != nil {
					b.Fatal(err)
				}
			}
		})
		same := benchImage(size, size)
		b.Run(fmt.Sprintf("fill%dpx", size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(4 * len(dst)))
			for b.Loop() {
				cfg.Norm.Fill(dst, same, 3)
			}
		})
	}
}

func BenchmarkDecodePNG(b *testing.B) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, benchImage(500, 375)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := preprocess.Decode(bytes.NewReader(data), 0); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseNorm(f *testing.F) {
	for _, s := range []string{"imagenet", "unit", "none", "0.5/0.25", "0.1,0.2,0.3/1,2,3", "1,2/3", "a/b", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := preprocess.ParseNorm(s)
		if err != nil {
			return
		}
		for _, v := range n.Std {
			if v < 0 || math.IsNaN(float64(v)) {
				t.Fatalf("ParseNorm(%q) accepted std %v", s, n.Std)
			}
		}
	})
}

func TestAffine(t *testing.T) {
	for _, n := range []preprocess.Norm{preprocess.Unit, preprocess.ImageNet, preprocess.None, {Mean: [3]float32{0.5, 0.4, 0.3}, Std: [3]float32{0.2, 0.3, 0.4}}} {
		img := pixels(1, 1, func(x, y int) color.NRGBA { return color.NRGBA{200, 100, 7, 255} })
		v := make([]float32, 3)
		n.Fill(v, img, 3)
		for c, p := range []float32{200, 100, 7} {
			a, b := n.Affine(c)
			if got := a*p/255 + b; math.Abs(float64(got-v[c])) > 1e-4 {
				t.Errorf("%+v channel %d: affine gives %g, Fill %g", n, c, got, v[c])
			}
		}
	}
}

// TestCheck compares the header-only check with a full Load: Check must
// refuse what Load refuses for its format or size, with the same error.
func TestCheck(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "images")
	for _, tc := range []struct {
		path string
		want error // nil: passes Check
	}{
		{filepath.Join(dir, "shapes.png"), nil},
		{filepath.Join(dir, "shapes.jpg"), nil},
		{filepath.Join(dir, "shapes.gif"), nil},
		{filepath.Join(dir, "bomb.png"), preprocess.ErrTooLarge},
		{filepath.Join("..", "..", "testdata", "models", "README.md"), preprocess.ErrFormat},
		{filepath.Join(dir, "missing.png"), os.ErrNotExist},
	} {
		err := preprocess.Check(tc.path, 0)
		if tc.want == nil {
			if err != nil {
				t.Errorf("Check(%s) = %v", tc.path, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("Check(%s) = %v, want %v", tc.path, err, tc.want)
		}
		if _, lerr := preprocess.Load(tc.path, 0); lerr == nil || lerr.Error() != err.Error() {
			t.Errorf("%s: Check says %v, Load says %v", tc.path, err, lerr)
		}
	}
}
