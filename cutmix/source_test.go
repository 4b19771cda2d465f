package cutmix_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutmixcam/cutmix-cam/cutmix"
	"github.com/google/go-cmp/cmp"
)

func TestReadFolder(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []struct {
		path  string
		class int
	}{
		{"loose.png", 0},
		{"dog/b.png", 1},
		{"dog/a.png", 1},
		{"cat/x.png", 2},
		{"cat/notes.txt", -1},
		{".hidden/y.png", 3},
	} {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if f.class < 0 {
			if err := os.WriteFile(p, []byte("text"), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writePNG(t, p, pattern(8, 6, f.class))
	}
	got, err := cutmix.ReadFolder(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID, Name string
		Class    int
		W, H     int
	}
	var rows []row
	for _, s := range got {
		rows = append(rows, row{s.ID, s.ClassName, s.Class, s.Image.Bounds().Dx(), s.Image.Bounds().Dy()})
	}
	want := []row{
		{"loose.png", "", -1, 8, 6},
		{"cat/x.png", "cat", 0, 8, 6},
		{"dog/a.png", "dog", 1, 8, 6},
		{"dog/b.png", "dog", 1, 8, 6},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("ReadFolder (-want +got):\n%s", diff)
	}
	if _, err := cutmix.ReadFolder(context.Background(), t.TempDir()); !errors.Is(err, cutmix.ErrEmpty) {
		t.Errorf("ReadFolder(empty dir) = %v, want ErrEmpty", err)
	}
	if _, err := cutmix.ReadImages(context.Background(), []string{filepath.Join(dir, "cat", "notes.txt")}); err == nil {
		t.Error("ReadImages(text file) succeeded")
	}
}

func TestReadImagesPixelCap(t *testing.T) {
	_, err := cutmix.ReadImages(context.Background(), []string{filepath.Join("..", "testdata", "images", "bomb.png")})
	if err == nil || !strings.Contains(err.Error(), "pixel cap") {
		t.Errorf("ReadImages(bomb.png) = %v, want a pixel-cap error", err)
	}
}
