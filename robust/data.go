package robust

import (
	"context"
	"fmt"
	"image"
)

// Dataset is a labelled set of images of one shape, in pixel space.
//
// Len is the number of images and Shape their channels, rows and columns.
// Label returns the ground-truth class of image i, or a negative number
// when it is unknown (every evaluation then fails with ErrNoLabels). Load
// writes image i into dst, of length C·H·W in (c, y, x) order, as values
// in [0, 1]. The evaluations call a Dataset from one goroutine at a time.
type Dataset interface {
	Len() int
	Shape() (c, h, w int)
	Label(i int) int
	Load(ctx context.Context, i int, dst []float32) error
}

// Data is an in-memory Dataset: Pixels holds len(Labels) images of
// C×H×W pixels in [0, 1], N×C×H×W row-major. A Data is read, never
// modified, by this package, so it may be shared by goroutines.
type Data struct {
	Pixels  []float32
	Labels  []int
	C, H, W int
}

// Len returns the number of images, len(d.Labels).
func (d Data) Len() int { return len(d.Labels) }

// Shape returns C, H, W.
func (d Data) Shape() (c, h, w int) { return d.C, d.H, d.W }

// Label returns d.Labels[i].
func (d Data) Label(i int) int { return d.Labels[i] }

// Load copies image i into dst. It returns ErrShape when dst or Pixels
// have the wrong length.
func (d Data) Load(_ context.Context, i int, dst []float32) error {
	s := d.C * d.H * d.W
	if len(dst) != s || len(d.Pixels) != len(d.Labels)*s || i < 0 || i >= len(d.Labels) {
		return fmt.Errorf("load image %d of %d (%d values, %d wanted): %w", i, len(d.Labels), len(dst), s, ErrShape)
	}
	copy(dst, d.Pixels[i*s:(i+1)*s])
	return nil
}

// FromImages returns the images as a 3-channel RGB Data, pixel value
// v/65535 of each 16-bit colour channel (8-bit images give exactly k/255
// up to float32 rounding). Colours are read with the RGBA method, which
// premultiplies by alpha, so transparent pixels come out dark. All images
// must have the size of the first (resize them beforehand); labels has
// one entry per image. It returns ErrEmpty for no images or an empty
// image and ErrShape for mismatched sizes or label counts.
func FromImages(imgs []image.Image, labels []int) (*Data, error) {
	if len(imgs) == 0 {
		return nil, fmt.Errorf("from images: %w", ErrEmpty)
	}
	if len(labels) != len(imgs) {
		return nil, fmt.Errorf("from images: %d labels for %d images: %w", len(labels), len(imgs), ErrShape)
	}
	if imgs[0] == nil || imgs[0].Bounds().Empty() {
		return nil, fmt.Errorf("from images: image 0: %w", ErrEmpty)
	}
	size := imgs[0].Bounds().Size()
	w, h := size.X, size.Y
	d := &Data{Pixels: make([]float32, len(imgs)*3*w*h), Labels: append([]int(nil), labels...), C: 3, H: h, W: w}
	plane := w * h
	for n, img := range imgs {
		if img == nil || img.Bounds().Size() != size {
			return nil, fmt.Errorf("from images: image %d is not %dx%d: %w", n, w, h, ErrShape)
		}
		b := img.Bounds()
		px := d.Pixels[n*3*plane : (n+1)*3*plane]
		for y := range h {
			for x := range w {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				o := y*w + x
				px[o] = float32(r) / 65535
				px[plane+o] = float32(g) / 65535
				px[2*plane+o] = float32(bl) / 65535
			}
		}
	}
	return d, nil
}

// checkData validates d and returns its shape.
func checkData(op string, d Dataset) (n, c, h, w int, err error) {
	if d == nil || d.Len() <= 0 {
		return 0, 0, 0, 0, fmt.Errorf("%s: %w", op, ErrEmpty)
	}
	n = d.Len()
	c, h, w = d.Shape()
	if c <= 0 || h <= 0 || w <= 0 {
		return 0, 0, 0, 0, fmt.Errorf("%s: images %dx%dx%d: %w", op, c, h, w, ErrEmpty)
	}
	for i := range n {
		if d.Label(i) < 0 {
			return 0, 0, 0, 0, fmt.Errorf("%s: image %d has no label: %w", op, i, ErrNoLabels)
		}
	}
	return n, c, h, w, nil
}

// loader fills batches from a Dataset into reused buffers.
type loader struct {
	d          Dataset
	op         string
	n, c, h, w int
	size       int // batch size
	buf        []float32
	labels     []int
}

func newLoader(op string, d Dataset, batchSize int) (*loader, error) {
	n, c, h, w, err := checkData(op, d)
	if err != nil {
		return nil, err
	}
	bs := batchSize
	if bs <= 0 {
		bs = DefaultBatchSize
	}
	bs = min(bs, n)
	return &loader{d: d, op: op, n: n, c: c, h: h, w: w, size: bs,
		buf: make([]float32, bs*c*h*w), labels: make([]int, bs)}, nil
}

// load loads the images idx into a batch (aliasing l.buf) and their labels.
func (l *loader) load(ctx context.Context, idx []int) (Batch, []int, error) {
	s := l.c * l.h * l.w
	b := Batch{Data: l.buf[:len(idx)*s], N: len(idx), C: l.c, H: l.h, W: l.w}
	for j, i := range idx {
		if err := ctx.Err(); err != nil {
			return Batch{}, nil, fmt.Errorf("%s: %w", l.op, err)
		}
		px := b.image(j)
		if err := l.d.Load(ctx, i, px); err != nil {
			return Batch{}, nil, fmt.Errorf("%s: load image %d: %w", l.op, i, err)
		}
		if err := checkPixels(fmt.Sprintf("%s: image %d", l.op, i), px); err != nil {
			return Batch{}, nil, err
		}
		l.labels[j] = l.d.Label(i)
	}
	return b, l.labels[:len(idx)], nil
}

// each calls fn for consecutive batches of the dataset, in order.
func (l *loader) each(ctx context.Context, fn func(first int, b Batch, labels []int) error) error {
	idx := make([]int, 0, l.size)
	for first := 0; first < l.n; first += l.size {
		idx = idx[:0]
		for i := first; i < min(first+l.size, l.n); i++ {
			idx = append(idx, i)
		}
		b, labels, err := l.load(ctx, idx)
		if err != nil {
			return err
		}
		if err := fn(first, b, labels); err != nil {
			return err
		}
	}
	return nil
}
