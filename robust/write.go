package robust

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/cutmixcam/cutmix-cam/internal/atomicfile"
)

// WriteOptions configures WriteAdversarial. Its zero value writes 8-bit
// PNGs named from index 0 with perturbation maps scaled per image. It is
// a plain value.
type WriteOptions struct {
	// First is the dataset index of image 0 of the batch, used in the file
	// names.
	First int
	// Epsilon scales the perturbation maps: δ = ±Epsilon maps to 0 and 255
	// (65535), δ = 0 to mid-grey. 0 means each image's own max |δ| (mid-grey
	// when δ is 0 everywhere).
	Epsilon float64
	// Depth16 writes 16-bit PNGs, value round(v·65535), instead of 8-bit
	// ones, round(v·255). 8-bit is lossless for FGSM on 8-bit images with
	// ε = k/255 (every x_adv is a multiple of 1/255 up to float32
	// rounding); PGD's random start needs 16 bits to keep more precision.
	Depth16 bool
}

// WriteAdversarial writes, for each image n of adv, adv_NNNNN.png (the
// adversarial image) and delta_NNNNN.png (its perturbation map adv − x,
// per channel) into dir, creating dir if needed; NNNNN is o.First + n,
// zero-padded to five digits. Images have 1 (grey) or 3 (RGB) channels.
// Each file is written to a temporary file in dir and renamed into place,
// so readers never see a partial file. It stops between files when ctx is
// done. Errors wrap ErrShape for mismatched or unsupported batches and
// the file system's errors.
func WriteAdversarial(ctx context.Context, dir string, x, adv Batch, o WriteOptions) error {
	if err := x.check("write adversarial"); err != nil {
		return err
	}
	if adv.N != x.N || adv.C != x.C || adv.H != x.H || adv.W != x.W || len(adv.Data) != len(x.Data) {
		return fmt.Errorf("write adversarial: batch %dx%dx%dx%d for clean %dx%dx%dx%d: %w", adv.N, adv.C, adv.H, adv.W, x.N, x.C, x.H, x.W, ErrShape)
	}
	if x.C != 1 && x.C != 3 {
		return fmt.Errorf("write adversarial: %d channels (want 1 or 3): %w", x.C, ErrShape)
	}
	if !(o.Epsilon >= 0) || o.First < 0 {
		return fmt.Errorf("write adversarial: epsilon %v first %d: %w", o.Epsilon, o.First, ErrOption)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write adversarial: %w", err)
	}
	delta := make([]float32, x.C*x.H*x.W)
	for n := range x.N {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("write adversarial to %s: %w", dir, err)
		}
		a, c := adv.image(n), x.image(n)
		scale := o.Epsilon
		if scale == 0 {
			for i := range a {
				scale = max(scale, math.Abs(float64(a[i])-float64(c[i])))
			}
			if scale == 0 {
				scale = 1
			}
		}
		for i := range a {
			delta[i] = float32(0.5 + (float64(a[i])-float64(c[i]))/(2*scale))
		}
		id := o.First + n
		if err := writePNG(dir, fmt.Sprintf("adv_%05d.png", id), toImage(a, x.C, x.H, x.W, o.Depth16)); err != nil {
			return err
		}
		if err := writePNG(dir, fmt.Sprintf("delta_%05d.png", id), toImage(delta, x.C, x.H, x.W, o.Depth16)); err != nil {
			return err
		}
	}
	return nil
}

// toImage converts one C×H×W image (C = 1 or 3) in [0, 1], clipping
// values outside, to an 8- or 16-bit image.
func toImage(px []float32, c, h, w int, deep bool) image.Image {
	plane := h * w
	q := func(v float32, m float64) float64 { return math.Round(min(max(float64(v), 0), 1) * m) }
	r := image.Rect(0, 0, w, h)
	switch {
	case c == 1 && deep:
		img := image.NewGray16(r)
		for i, v := range px[:plane] {
			img.SetGray16(i%w, i/w, color.Gray16{Y: uint16(q(v, 65535))})
		}
		return img
	case c == 1:
		img := image.NewGray(r)
		for i, v := range px[:plane] {
			img.Pix[(i/w)*img.Stride+i%w] = uint8(q(v, 255))
		}
		return img
	case deep:
		img := image.NewNRGBA64(r)
		for i := range plane {
			img.SetNRGBA64(i%w, i/w, color.NRGBA64{
				R: uint16(q(px[i], 65535)), G: uint16(q(px[plane+i], 65535)), B: uint16(q(px[2*plane+i], 65535)), A: 0xffff})
		}
		return img
	default:
		img := image.NewNRGBA(r)
		for i := range plane {
			o := (i/w)*img.Stride + 4*(i%w)
			img.Pix[o] = uint8(q(px[i], 255))
			img.Pix[o+1] = uint8(q(px[plane+i], 255))
			img.Pix[o+2] = uint8(q(px[2*plane+i], 255))
			img.Pix[o+3] = 255
		}
		return img
	}
}

// writePNG writes img to dir/name atomically.
func writePNG(dir, name string, img image.Image) error {
	return writeAtomic(dir, name, func(w io.Writer) error { return png.Encode(w, img) })
}

// writeAtomic writes dir/name through a temporary file and a rename.
func writeAtomic(dir, name string, write func(io.Writer) error) error {
	return atomicfile.Write(filepath.Join(dir, name), 0, write)
}
