package cutmix

import (
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/disintegration/imaging"
)

// isImage reports whether name has an extension ReadFolder picks up
// (formats imaging decodes).
func isImage(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff":
		return true
	}
	return false
}

// MaxPixels is the largest image ReadImages and ReadFolder decode; larger
// ones are refused from their header, before any pixel is allocated.
const MaxPixels = 50_000_000

// openCapped decodes the image at path after checking its header size
// against MaxPixels.
func openCapped(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return nil, err
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("%d×%d image is over the %d-pixel cap", cfg.Width, cfg.Height, MaxPixels)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return imaging.Decode(f)
}

// ReadImages decodes the image files at paths (any format imaging
// decodes: PNG, JPEG, GIF, BMP, TIFF; at most MaxPixels) into sources with ID the file's base
// name and Class −1 (unknown), in the order given. It stops between files
// when ctx is done.
func ReadImages(ctx context.Context, paths []string) ([]Source, error) {
	out := make([]Source, 0, len(paths))
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read images: %w", err)
		}
		img, err := openCapped(p)
		if err != nil {
			return nil, fmt.Errorf("read image %s: %w", p, err)
		}
		if img.Bounds().Empty() {
			return nil, fmt.Errorf("read image %s: %w", p, ErrEmpty)
		}
		out = append(out, Source{ID: filepath.Base(p), Class: -1, Image: img})
	}
	return out, nil
}

// ReadFolder reads an ImageFolder tree (torchvision's layout): each
// subdirectory of dir is a class, indexed 0, 1, ... in sorted name order,
// holding that class's images; image files directly in dir get Class −1.
// Sources are ordered by class, then file name; ID is the slash-separated
// path relative to dir and ClassName the subdirectory's name. Files whose
// extension is not an image extension, hidden entries and deeper
// directories are skipped. It returns ErrEmpty when no image is found.
func ReadFolder(ctx context.Context, dir string) ([]Source, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read folder: %w", err)
	}
	var paths []string
	var classes []int
	var names []string
	add := func(sub string, class int, name string) error {
		es, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return fmt.Errorf("read folder: %w", err)
		}
		for _, e := range es {
			n := e.Name()
			if e.IsDir() || strings.HasPrefix(n, ".") || !isImage(n) {
				continue
			}
			paths = append(paths, filepath.Join(dir, sub, n))
			classes = append(classes, class)
			names = append(names, name)
		}
		return nil
	}
	if err := add("", -1, ""); err != nil {
		return nil, err
	}
	class := 0
	for _, e := range entries { // os.ReadDir sorts by name
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := add(e.Name(), class, e.Name()); err != nil {
			return nil, err
		}
		class++
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("read folder %s: no images: %w", dir, ErrEmpty)
	}
	src, err := ReadImages(ctx, paths)
	if err != nil {
		return nil, err
	}
	for i := range src {
		rel, err := filepath.Rel(dir, paths[i])
		if err != nil {
			return nil, fmt.Errorf("read folder: %w", err)
		}
		src[i].ID = filepath.ToSlash(rel)
		src[i].Class = classes[i]
		src[i].ClassName = names[i]
	}
	return src, nil
}
