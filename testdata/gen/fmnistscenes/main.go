// Command fmnistscenes writes a weakly-supervised localization data set made
// from Fashion-MNIST: each scene is a 64×64 RGB image with one Fashion-MNIST
// item, scaled 1×–2× and placed at a random position over a textured
// background cluttered with fragments cut from items of other classes. The
// ground truth per scene is the item's class, its tight box and its instance
// mask, written in wsolevaluation's metadata layout (see wsol.WriteMetadata).
//
// It reads the idx files of Debian's dataset-fashion-mnist package. The
// evaluation split committed under testdata/fmnist-wsol is made from the t10k
// images only; training splits come from the train images only and are not
// committed. Run from the repository root:
//
//	go run ./testdata/gen/fmnistscenes -split test -n 600 -seed 1 -out testdata/fmnist-wsol
//	go run ./testdata/gen/fmnistscenes -split train -n 20000 -seed 2 -out out/fmnist-wsol-train
//
// The same flags write the same bytes: all pixel arithmetic is integer and
// all randomness comes from PCG streams seeded with (seed, scene index).
//
// # Layout
//
// Under -out, for split s:
//
//	s/<class>/<nnnnn>.png                   scene images (image root: -out)
//	metadata/{image_ids,class_labels,image_sizes,localization}.txt
//	                                        localization.txt holds boxes
//	masks/s/<class>/<nnnnn>_m<class>.png    instance mask, 255 = object
//	masks/s/<class>/<nnnnn>_ignore.png      ignore mask, all zero
//	masks/{image_ids,class_labels,image_sizes,localization}.txt
//	                                        localization.txt holds masks (mask root: -out/masks)
//
// Boxes are inclusive x0,y0,x1,y1 of the instance mask's extent.
package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/cutmixcam/cutmix-cam/wsol"
)

// Scene geometry and rendering constants.
const (
	canvas     = 64  // scene width and height
	numClasses = 10  // Fashion-MNIST classes
	maskAlpha  = 128 // object alpha at or above which a pixel is in the mask
	itemThresh = 32  // source intensity at or above which a pixel is part of an item
)

// config holds the command's flags.
type config struct {
	src   string // folder with the idx .gz files
	split string // "test" (t10k images) or "train" (train images)
	n     int    // scenes, balanced over the classes
	seed  uint64
	out   string
}

func main() {
	var c config
	flag.StringVar(&c.src, "src", "/usr/share/datasets/fashion-mnist", "folder with the Fashion-MNIST idx `.gz` files")
	flag.StringVar(&c.split, "split", "test", "split: test (from t10k images) or train (from train images)")
	flag.IntVar(&c.n, "n", 600, "number of scenes, a multiple of 10")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed")
	flag.StringVar(&c.out, "out", "", "output folder (created)")
	flag.Parse()
	if err := generate(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "fmnistscenes:", err)
		os.Exit(1)
	}
}

// items is a set of 28×28 grey images with their labels.
type items struct {
	w, h   int
	pix    [][]uint8
	labels []uint8
}

func generate(ctx context.Context, c config) error {
	if c.out == "" {
		return errors.New("-out is required")
	}
	if c.n <= 0 || c.n%numClasses != 0 {
		return fmt.Errorf("-n %d: want a positive multiple of %d", c.n, numClasses)
	}
	prefix := map[string]string{"test": "t10k", "train": "train"}[c.split]
	if prefix == "" {
		return fmt.Errorf("-split %q: want test or train", c.split)
	}
	src, err := readItems(filepath.Join(c.src, prefix+"-images-idx3-ubyte.gz"), filepath.Join(c.src, prefix+"-labels-idx1-ubyte.gz"))
	if err != nil {
		return err
	}
	byClass := make([][]int, numClasses)
	for i, l := range src.labels {
		if int(l) >= numClasses {
			return fmt.Errorf("item %d: label %d out of range", i, l)
		}
		byClass[l] = append(byClass[l], i)
	}
	// Pick n/10 distinct source items per class with a seeded shuffle.
	pick := rand.New(rand.NewPCG(c.seed, 1<<63))
	perClass := c.n / numClasses
	for k, idx := range byClass {
		if len(idx) < perClass {
			return fmt.Errorf("class %d has %d items, want %d", k, len(idx), perClass)
		}
		shuffle(pick, idx)
	}

	masks := filepath.Join(c.out, "masks")
	for k := range numClasses {
		for _, d := range []string{filepath.Join(c.out, c.split, fmt.Sprint(k)), filepath.Join(masks, c.split, fmt.Sprint(k))} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(c.out, "metadata"), 0o755); err != nil {
		return err
	}

	boxes := &wsol.Dataset{}
	withMasks := &wsol.Dataset{}
	ignore := image.NewGray(image.Rect(0, 0, canvas, canvas))
	for i := range c.n {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := i % numClasses
		obj := byClass[k][i/numClasses]
		rng := rand.NewPCG(c.seed, uint64(i))
		img, mask, box := render(rng, src, obj, byClass)
		base := fmt.Sprintf("%s/%d/%05d", c.split, k, i)
		id := base + ".png"
		mpath := fmt.Sprintf("%s_m%d.png", base, k)
		ipath := base + "_ignore.png"
		if err := writePNG(filepath.Join(c.out, id), img); err != nil {
			return err
		}
		if err := writePNG(filepath.Join(masks, mpath), mask); err != nil {
			return err
		}
		if err := writePNG(filepath.Join(masks, ipath), ignore); err != nil {
			return err
		}
		size := image.Pt(canvas, canvas)
		boxes.Items = append(boxes.Items, wsol.Item{ID: id, Label: k, Size: size, Boxes: []image.Rectangle{box}})
		withMasks.Items = append(withMasks.Items, wsol.Item{ID: id, Label: k, Size: size, Masks: []string{mpath}, Ignore: ipath})
	}
	if err := wsol.WriteMetadata(ctx, filepath.Join(c.out, "metadata"), boxes); err != nil {
		return err
	}
	return wsol.WriteMetadata(ctx, masks, withMasks)
}

// readItems reads an idx3 image file and its idx1 label file.
func readItems(imagesPath, labelsPath string) (*items, error) {
	ib, err := readGz(imagesPath)
	if err != nil {
		return nil, err
	}
	lb, err := readGz(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(ib) < 16 || binary.BigEndian.Uint32(ib) != 0x803 {
		return nil, fmt.Errorf("%s: not an idx3 ubyte file", imagesPath)
	}
	if len(lb) < 8 || binary.BigEndian.Uint32(lb) != 0x801 {
		return nil, fmt.Errorf("%s: not an idx1 ubyte file", labelsPath)
	}
	n := int(binary.BigEndian.Uint32(ib[4:]))
	h := int(binary.BigEndian.Uint32(ib[8:]))
	w := int(binary.BigEndian.Uint32(ib[12:]))
	if len(ib) != 16+n*w*h || len(lb) != 8+n || int(binary.BigEndian.Uint32(lb[4:])) != n {
		return nil, fmt.Errorf("%s, %s: sizes do not match", imagesPath, labelsPath)
	}
	s := &items{w: w, h: h, labels: lb[8:]}
	for i := range n {
		s.pix = append(s.pix, ib[16+i*w*h:16+(i+1)*w*h])
	}
	return s, nil
}

func readGz(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return f.Close()
}

// Random helpers use the source's raw output only, so the stream does not
// depend on how math/rand/v2 maps it to ranges.

func intn(r rand.Source, n int) int { return int(r.Uint64() % uint64(n)) }

// between returns an integer in [lo, hi].
func between(r rand.Source, lo, hi int) int { return lo + intn(r, hi-lo+1) }

func shuffle(r rand.Source, s []int) {
	for i := len(s) - 1; i > 0; i-- {
		j := intn(r, i+1)
		s[i], s[j] = s[j], s[i]
	}
}

// sprite is a scaled item: per-pixel opacity and shade, both 0..255.
type sprite struct {
	w, h         int
	alpha, shade []int
}

// crop returns the tight extent of pixels >= itemThresh of item pix.
func crop(s *items, pix []uint8) image.Rectangle {
	r := image.Rectangle{}
	for y := range s.h {
		for x := range s.w {
			if pix[y*s.w+x] >= itemThresh {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// scale resamples the part r of item pix to w×h with integer bilinear
// interpolation (half-pixel centres, edge clamp) and maps intensity to a
// sprite: dark-but-present pixels are opaque, shade follows intensity.
func scale(s *items, pix []uint8, r image.Rectangle, w, h int) sprite {
	sp := sprite{w: w, h: h, alpha: make([]int, w*h), shade: make([]int, w*h)}
	sw, sh := r.Dx(), r.Dy()
	at := func(x, y int) int { return int(pix[(r.Min.Y+y)*s.w+r.Min.X+x]) }
	coord := func(d, dn, sn int) (i0, i1, f int) {
		c := (2*d+1)*sn*256/(2*dn) - 128 // source position in 1/256 pixel
		c = max(0, min(c, (sn-1)*256))
		i0, f = c>>8, c&255
		return i0, min(i0+1, sn-1), f
	}
	for y := range h {
		y0, y1, fy := coord(y, h, sh)
		for x := range w {
			x0, x1, fx := coord(x, w, sw)
			top := at(x0, y0)*(256-fx) + at(x1, y0)*fx
			bot := at(x0, y1)*(256-fx) + at(x1, y1)*fx
			v := (top*(256-fy) + bot*fy + 1<<15) >> 16
			sp.alpha[y*w+x] = min(255, v*4)
			sp.shade[y*w+x] = 96 + v*159/255
		}
	}
	return sp
}

// paint blends sprite sp with colour tint onto img at (ox, oy) and returns
// the canvas pixels whose opacity reaches maskAlpha.
func paint(img *image.RGBA, sp sprite, tint [3]int, ox, oy int) []image.Point {
	var on []image.Point
	for y := range sp.h {
		for x := range sp.w {
			px, py := ox+x, oy+y
			if px < 0 || py < 0 || px >= canvas || py >= canvas {
				continue
			}
			a, sh := sp.alpha[y*sp.w+x], sp.shade[y*sp.w+x]
			if a == 0 {
				continue
			}
			o := img.PixOffset(px, py)
			for c := range 3 {
				fg := tint[c] * sh / 255
				img.Pix[o+c] = uint8((fg*a + int(img.Pix[o+c])*(255-a) + 127) / 255)
			}
			if a >= maskAlpha {
				on = append(on, image.Pt(px, py))
			}
		}
	}
	return on
}

func randColor(r rand.Source) [3]int {
	return [3]int{intn(r, 256), intn(r, 256), intn(r, 256)}
}

func luma(c [3]int) int { return (299*c[0] + 587*c[1] + 114*c[2]) / 1000 }

// background fills img with a texture: value noise on a coarse lattice
// blending two colours, a triangular stripe pattern at a random angle, and
// per-pixel grain.
func background(r rand.Source, img *image.RGBA, c0, c1 [3]int) {
	cell := []int{8, 16}[intn(r, 2)]
	n := canvas/cell + 1
	lattice := make([]int, n*n)
	for i := range lattice {
		lattice[i] = intn(r, 256)
	}
	dx, dy := between(r, -3, 3), between(r, -3, 3)
	period := between(r, 5, 12)
	stripe := between(r, 0, 40)
	for y := range canvas {
		gy, fy := y/cell, (y%cell)*256/cell
		for x := range canvas {
			gx, fx := x/cell, (x%cell)*256/cell
			top := lattice[gy*n+gx]*(256-fx) + lattice[gy*n+gx+1]*fx
			bot := lattice[(gy+1)*n+gx]*(256-fx) + lattice[(gy+1)*n+gx+1]*fx
			t := (top*(256-fy) + bot*fy) >> 16 // 0..255
			p := ((x*dx+y*dy)%period + period) % period
			tri := (2*p*255/period - 255)
			if tri < 0 {
				tri = -tri
			}
			grain := between(r, -5, 5)
			o := img.PixOffset(x, y)
			for c := range 3 {
				v := (c0[c]*(255-t)+c1[c]*t)/255 + (tri-128)*stripe/255 + grain
				img.Pix[o+c] = uint8(max(0, min(255, v)))
			}
			img.Pix[o+3] = 255
		}
	}
}

// render draws one scene around source item obj and returns the image, the
// instance mask and the mask's extent.
func render(r rand.Source, s *items, obj int, byClass [][]int) (*image.RGBA, *image.Gray, image.Rectangle) {
	img := image.NewRGBA(image.Rect(0, 0, canvas, canvas))
	tint := randColor(r)
	c0, c1 := randColor(r), randColor(r)
	// Keep the item's colour at least somewhat apart from the background's.
	for _, c := range []*[3]int{&c0, &c1} {
		if d := luma(*c) - luma(tint); d > -50 && d < 50 {
			*c = [3]int{255 - c[0], 255 - c[1], 255 - c[2]}
		}
	}
	background(r, img, c0, c1)

	// Distractors: fragments of items of other classes.
	label := int(s.labels[obj])
	for range between(r, 3, 5) {
		k := (label + between(r, 1, numClasses-1)) % numClasses
		other := byClass[k][intn(r, len(byClass[k]))]
		pix := s.pix[other]
		ext := crop(s, pix)
		fw, fh := min(ext.Dx(), between(r, 7, 14)), min(ext.Dy(), between(r, 7, 14))
		fx0 := ext.Min.X + intn(r, ext.Dx()-fw+1)
		fy0 := ext.Min.Y + intn(r, ext.Dy()-fh+1)
		part := image.Rect(fx0, fy0, fx0+fw, fy0+fh)
		f := between(r, 1000, 1800)
		sp := scale(s, pix, part, max(1, (fw*f+500)/1000), max(1, (fh*f+500)/1000))
		paint(img, sp, randColor(r), between(r, -4, canvas-sp.w+4), between(r, -4, canvas-sp.h+4))
	}

	// The object, on top, entirely inside the canvas.
	pix := s.pix[obj]
	ext := crop(s, pix)
	f := between(r, 1000, 2000)
	w, h := (ext.Dx()*f+500)/1000, (ext.Dy()*f+500)/1000
	if m := max(w, h); m > canvas-2 { // keep a 1-pixel margin
		w, h = max(1, w*(canvas-2)/m), max(1, h*(canvas-2)/m)
	}
	sp := scale(s, pix, ext, w, h)
	on := paint(img, sp, tint, between(r, 1, canvas-1-w), between(r, 1, canvas-1-h))

	mask := image.NewGray(img.Bounds())
	box := image.Rectangle{}
	for _, p := range on {
		mask.SetGray(p.X, p.Y, color.Gray{Y: 255})
		box = box.Union(image.Rect(p.X, p.Y, p.X+1, p.Y+1))
	}
	return img, mask, box
}
