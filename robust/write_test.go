package robust_test

import (
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/cutmixcam/cutmix-cam/robust"
)

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestWriteAdversarial(t *testing.T) {
	// 8-bit RGB images and FGSM at 8/255: the written PNG holds x_adv
	// exactly (every value is a multiple of 1/255).
	m := randomLinear(3, 3, 4, 5, 51)
	d := randomData(m, 2, 0, 1, 52)
	for i, v := range d.Pixels {
		d.Pixels[i] = float32(int(v*255)) / 255
	}
	x := robust.Batch{Data: d.Pixels, N: 2, C: 3, H: 4, W: 5}
	adv, err := robust.FGSM{}.Perturb(context.Background(), m, x, d.Labels)
	if err != nil {
		t.Fatal(err)
	}
	for _, deep := range []bool{false, true} {
		dir := t.TempDir()
		if err := robust.WriteAdversarial(context.Background(), dir, x, adv, robust.WriteOptions{First: 10, Epsilon: robust.DefaultEpsilon, Depth16: deep}); err != nil {
			t.Fatal(err)
		}
		back, err := robust.FromImages([]image.Image{
			readPNG(t, filepath.Join(dir, "adv_00010.png")),
			readPNG(t, filepath.Join(dir, "adv_00011.png")),
		}, []int{0, 0})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range adv.Data {
			if d := back.Pixels[i] - v; d > 1e-6 || d < -1e-6 {
				t.Fatalf("depth16=%v pixel %d: read back %v, wrote %v", deep, i, back.Pixels[i], v)
			}
		}
		delta := readPNG(t, filepath.Join(dir, "delta_00010.png"))
		r, _, _, _ := delta.At(0, 0).RGBA()
		if r>>8 != 0 && r>>8 != 128 && r>>8 != 255 {
			t.Errorf("perturbation map value %d, want 0, 128 or 255 for ±ε or 0", r>>8)
		}
		left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
		if len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	}
	bad := robust.Batch{Data: make([]float32, 2*2), N: 1, C: 2, H: 1, W: 2}
	if err := robust.WriteAdversarial(context.Background(), t.TempDir(), bad, bad, robust.WriteOptions{}); !errors.Is(err, robust.ErrShape) {
		t.Errorf("2 channels: error %v, want ErrShape", err)
	}
}
