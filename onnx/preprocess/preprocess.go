// Package preprocess turns image files into the float32 N×C×H×W tensors that
// image classifiers take: safe decoding with a pixel cap, resizing with
// github.com/disintegration/imaging, channel conversion and normalisation.
//
// # Resizing
//
// Warp (the default) resizes straight to the model's size, changing the
// aspect ratio; it is what wsolevaluation does for evaluation, so boxes
// scaled per axis line up with the CAM. Crop resizes the shorter side to
// size/CropRatio (256 for 224 with the default 0.875) and cuts the centre,
// as torchvision's ImageNet evaluation transform does. Both use imaging's
// Linear filter, which smooths when shrinking like PIL's bilinear resize.
//
// # Values
//
// A pixel p in 0..255 becomes (p·Scale − Mean[c]) / Std[c]. The zero Norm
// is Unit: Scale 1/255, mean 0, std 1, giving [0, 1]. ImageNet uses the
// usual mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) on [0, 1]
// values; None keeps 0..255. One-channel models get luma computed as PIL's
// "L" conversion (299·R + 587·G + 114·B)/1000, rounded; alpha is ignored.
package preprocess

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/disintegration/imaging"
)

// DefaultMaxPixels is the pixel cap used when none is given: 50 megapixels.
const DefaultMaxPixels = 50_000_000

// ErrFormat reports data that is not a PNG, JPEG or GIF image.
var ErrFormat = errors.New("preprocess: not a PNG, JPEG or GIF image")

// ErrTooLarge reports an image over the pixel cap.
var ErrTooLarge = errors.New("preprocess: image over the pixel cap")

// Decode reads a PNG, JPEG or GIF (first frame) after checking from its
// header that it has at most maxPixels pixels (0 means DefaultMaxPixels), so
// a small file claiming a huge size is refused before any allocation.
func Decode(r io.Reader, maxPixels int) (image.Image, error) {
	br := bufio.NewReader(r)
	decode, config, err := format(br)
	if err != nil {
		return nil, err
	}
	// Read the whole file once so the header check and the decode see the
	// same bytes.
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("preprocess: read image: %w", err)
	}
	if err := checkHeader(bytes.NewReader(data), config, maxPixels); err != nil {
		return nil, err
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("preprocess: decode image: %w", err)
	}
	return img, nil
}

// format recognises a PNG, JPEG or GIF from the first bytes of br.
func format(br *bufio.Reader) (decode func(io.Reader) (image.Image, error), config func(io.Reader) (image.Config, error), err error) {
	head, _ := br.Peek(8)
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return png.Decode, png.DecodeConfig, nil
	case bytes.HasPrefix(head, []byte{0xff, 0xd8}):
		return jpeg.Decode, jpeg.DecodeConfig, nil
	case bytes.HasPrefix(head, []byte("GIF8")):
		return gif.Decode, gif.DecodeConfig, nil
	}
	return nil, nil, ErrFormat
}

// checkHeader reads an image header with config and checks its size
// against maxPixels.
func checkHeader(r io.Reader, config func(io.Reader) (image.Config, error), maxPixels int) error {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	cfg, err := config(r)
	if err != nil {
		return fmt.Errorf("preprocess: decode image header: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Errorf("preprocess: image has size %d×%d", cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return fmt.Errorf("%w: %d×%d is more than %d pixels", ErrTooLarge, cfg.Width, cfg.Height, maxPixels)
	}
	return nil
}

// Check reads only the header of the image file at path and returns the
// error Load would give for an unknown format, an unreadable header or a
// size over maxPixels, so that a long run can refuse bad inputs before it
// starts. A file that passes may still fail to decode past its header.
func Check(path string, maxPixels int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	_, config, err := format(br)
	if err == nil {
		err = checkHeader(br, config, maxPixels)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Load decodes the image file at path with Decode.
func Load(path string, maxPixels int) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := Decode(f, maxPixels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// Norm maps 0..255 pixel values to model inputs: (p·Scale − Mean[c]) /
// Std[c]. Zero Scale means 1/255 and a zero Std entry means 1, so the zero
// value is Unit.
type Norm struct {
	Mean, Std [3]float32
	Scale     float32
}

// Presets.
var (
	// Unit gives values in [0, 1].
	Unit = Norm{}
	// ImageNet is torchvision's normalisation on [0, 1] values.
	ImageNet = Norm{Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225}}
	// None keeps 0..255.
	None = Norm{Scale: 1}
)

// ParseNorm parses "imagenet", "unit", "none" or explicit values
// "m0,m1,m2/s0,s1,s2" (mean and std on the [0, 1] scale; one value each is
// used for all channels).
func ParseNorm(s string) (Norm, error) {
	switch strings.ToLower(s) {
	case "imagenet":
		return ImageNet, nil
	case "unit", "":
		return Unit, nil
	case "none":
		return None, nil
	}
	ms, ss, ok := strings.Cut(s, "/")
	if !ok {
		return Norm{}, fmt.Errorf("preprocess: norm %q: use imagenet, unit, none or MEAN/STD such as 0.5,0.5,0.5/0.25,0.25,0.25", s)
	}
	mean, err := parseTriple(ms)
	if err != nil {
		return Norm{}, fmt.Errorf("preprocess: norm %q mean: %w", s, err)
	}
	std, err := parseTriple(ss)
	if err != nil {
		return Norm{}, fmt.Errorf("preprocess: norm %q std: %w", s, err)
	}
	for _, v := range std {
		if v <= 0 {
			return Norm{}, fmt.Errorf("preprocess: norm %q: std must be positive", s)
		}
	}
	return Norm{Mean: mean, Std: std}, nil
}

func parseTriple(s string) ([3]float32, error) {
	parts := strings.Split(s, ",")
	var out [3]float32
	if len(parts) != 1 && len(parts) != 3 {
		return out, fmt.Errorf("want 1 or 3 comma-separated numbers, got %d", len(parts))
	}
	for i := range out {
		p := parts[0]
		if len(parts) == 3 {
			p = parts[i]
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return out, fmt.Errorf("bad number %q", p)
		}
		out[i] = float32(v)
	}
	return out, nil
}

// lut returns the 256 input values of channel c.
func (n Norm) lut(c int) [256]float32 {
	scale := n.Scale
	if scale == 0 {
		scale = 1.0 / 255
	}
	std := n.Std[c]
	if std == 0 {
		std = 1
	}
	var t [256]float32
	for p := range t {
		t[p] = (float32(p)*scale - n.Mean[c]) / std
	}
	return t
}

// Fit says how an image is brought to the model's size.
type Fit int

const (
	// Warp resizes to the model's size directly.
	Warp Fit = iota
	// Crop resizes the shorter side to size/CropRatio and cuts the centre.
	Crop
)

// ParseFit parses "warp" or "crop".
func ParseFit(s string) (Fit, error) {
	switch strings.ToLower(s) {
	case "warp", "":
		return Warp, nil
	case "crop":
		return Crop, nil
	}
	return Warp, fmt.Errorf("preprocess: resize mode %q: use warp or crop", s)
}

// Config describes a model's input. Width and Height are required.
type Config struct {
	// Width and Height are the model's input size.
	Width, Height int
	// Channels is 1 or 3; 0 means 3.
	Channels int
	// Fit is Warp (default) or Crop.
	Fit Fit
	// CropRatio is the centre-crop fraction for Crop; 0 means 0.875.
	CropRatio float64
	// Norm maps pixels to values; the zero value is Unit.
	Norm Norm
}

func (c Config) channels() int {
	if c.Channels == 0 {
		return 3
	}
	return c.Channels
}

// Len returns the number of values one image takes: Channels·Height·Width.
func (c Config) Len() int { return c.channels() * c.Width * c.Height }

// Resize brings img to the configured size as an *image.NRGBA (a fresh
// image; img is not changed).
func (c Config) Resize(img image.Image) (*image.NRGBA, error) {
	if c.Width <= 0 || c.Height <= 0 {
		return nil, fmt.Errorf("preprocess: size %d×%d must be positive", c.Width, c.Height)
	}
	b := img.Bounds()
	if b.Empty() {
		return nil, errors.New("preprocess: empty image")
	}
	if c.Fit == Crop {
		ratio := c.CropRatio
		if ratio <= 0 || ratio > 1 {
			ratio = 0.875
		}
		short := min(b.Dx(), b.Dy())
		target := math.Round(float64(max(c.Width, c.Height)) / ratio)
		f := target / float64(short)
		w := max(c.Width, int(math.Round(float64(b.Dx())*f)))
		h := max(c.Height, int(math.Round(float64(b.Dy())*f)))
		return imaging.CropCenter(imaging.Resize(img, w, h, imaging.Linear), c.Width, c.Height), nil
	}
	if b.Dx() == c.Width && b.Dy() == c.Height {
		return imaging.Clone(img), nil
	}
	return imaging.Resize(img, c.Width, c.Height, imaging.Linear), nil
}

// Tensor resizes img and writes its Len() values, channel-major, into
// dst[:Len()]. It returns an error if dst is too short.
func (c Config) Tensor(dst []float32, img image.Image) error {
	if len(dst) < c.Len() {
		return fmt.Errorf("preprocess: dst has %d values, want %d", len(dst), c.Len())
	}
	if c.channels() != 1 && c.channels() != 3 {
		return fmt.Errorf("preprocess: %d channels, want 1 or 3", c.Channels)
	}
	r, err := c.Resize(img)
	if err != nil {
		return err
	}
	c.Norm.Fill(dst, r, c.channels())
	return nil
}

// Fill writes the channels×H×W values of img (1 or 3 channels) into dst,
// which must hold at least that many. It does not resize.
func (n Norm) Fill(dst []float32, img *image.NRGBA, channels int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	plane := w * h
	if channels == 1 {
		lut := n.lut(0)
		for y := 0; y < h; y++ {
			row := img.Pix[y*img.Stride : y*img.Stride+4*w]
			out := dst[y*w : (y+1)*w]
			for x := range out {
				p := row[4*x : 4*x+3 : 4*x+3]
				l := (19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 1<<15) >> 16
				out[x] = lut[l]
			}
		}
		return
	}
	l0, l1, l2 := n.lut(0), n.lut(1), n.lut(2)
	r, g, bl := dst[:plane], dst[plane:2*plane], dst[2*plane:3*plane]
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		o := y * w
		for x := 0; x < w; x++ {
			p := row[4*x : 4*x+3 : 4*x+3]
			r[o+x] = l0[p[0]]
			g[o+x] = l1[p[1]]
			bl[o+x] = l2[p[2]]
		}
	}
}

// Affine returns a and b such that the model value of channel c is
// a·x + b for a pixel x in [0, 1] (x = p/255). Attacks that work in pixel
// space use it to fold the normalisation into the model.
func (n Norm) Affine(c int) (a, b float32) {
	scale := n.Scale
	if scale == 0 {
		scale = 1.0 / 255
	}
	std := n.Std[c]
	if std == 0 {
		std = 1
	}
	return 255 * scale / std, -n.Mean[c] / std
}
