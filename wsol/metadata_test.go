package wsol

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// cubLike is a CUB/ILSVRC-style folder: boxes, a repeated id for a second
// box, no trailing newline.
var cubLike = map[string]string{
	FileImageIDs:     "val/a.JPEG\nval/b.JPEG",
	FileClassLabels:  "val/a.JPEG,3\nval/b.JPEG,0",
	FileImageSizes:   "val/a.JPEG,500,375\nval/b.JPEG,10,20",
	FileLocalization: "val/a.JPEG,111,108,441,193\nval/b.JPEG,1,2,4,3\nval/b.JPEG,0,0,9,19",
}

var cubWant = &Dataset{Items: []Item{
	{ID: "val/a.JPEG", Label: 3, Size: image.Pt(500, 375), Boxes: []image.Rectangle{ref(111, 108, 441, 193)}},
	{ID: "val/b.JPEG", Label: 0, Size: image.Pt(10, 20), Boxes: []image.Rectangle{ref(1, 2, 4, 3), ref(0, 0, 9, 19)}},
}}

// openImagesLike has masks, the ignore path on the first line only, and an
// empty image_sizes.txt.
var openImagesLike = map[string]string{
	FileImageIDs:     "test/c1/x.jpg\ntest/c1/y.jpg",
	FileClassLabels:  "test/c1/x.jpg,5\ntest/c1/y.jpg,5",
	FileImageSizes:   "",
	FileLocalization: "test/c1/x.jpg,test/c1/x_m1.png,test/c1/x_ignore.png\ntest/c1/x.jpg,test/c1/x_m2.png,\ntest/c1/y.jpg,test/c1/y_m1.png,test/c1/y_ignore.png",
}

var openImagesWant = &Dataset{Items: []Item{
	{ID: "test/c1/x.jpg", Label: 5, Masks: []string{"test/c1/x_m1.png", "test/c1/x_m2.png"}, Ignore: "test/c1/x_ignore.png"},
	{ID: "test/c1/y.jpg", Label: 5, Masks: []string{"test/c1/y_m1.png"}, Ignore: "test/c1/y_ignore.png"},
}}

func TestReadMetadata(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  *Dataset
	}{
		{"boxes", cubLike, cubWant},
		{"masks", openImagesLike, openImagesWant},
		{"trailing_newline", map[string]string{FileImageIDs: "a\n", FileClassLabels: "a,1\n"},
			&Dataset{Items: []Item{{ID: "a", Label: 1}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadMetadata(context.Background(), writeFiles(t, tc.files))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ReadMetadata mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadMetadataErrors(t *testing.T) {
	with := func(name, body string) map[string]string {
		m := map[string]string{}
		for k, v := range cubLike {
			m[k] = v
		}
		m[name] = body
		return m
	}
	tests := []struct {
		name  string
		files map[string]string
		file  string
		line  int
	}{
		{"label_not_int", with(FileClassLabels, "val/a.JPEG,3\nval/b.JPEG,x"), FileClassLabels, 2},
		{"label_fields", with(FileClassLabels, "val/a.JPEG,3,4"), FileClassLabels, 1},
		{"missing_label", with(FileClassLabels, "val/a.JPEG,3"), FileClassLabels, 0},
		{"empty_id_line", with(FileImageIDs, "val/a.JPEG\n\nval/b.JPEG"), FileImageIDs, 2},
		{"duplicate_id", with(FileImageIDs, "val/a.JPEG\nval/a.JPEG"), FileImageIDs, 2},
		{"inverted_box", with(FileLocalization, "val/a.JPEG,111,108,441,193\nval/b.JPEG,4,2,1,3"), FileLocalization, 2},
		{"negative_box", with(FileLocalization, "val/a.JPEG,-1,108,441,193"), FileLocalization, 1},
		{"box_outside", with(FileLocalization, "val/a.JPEG,111,108,441,193\nval/b.JPEG,0,0,10,19"), FileLocalization, 2},
		{"box_fields", with(FileLocalization, "val/a.JPEG,1,2,3"), FileLocalization, 1},
		{"mixed_kinds", with(FileLocalization, "val/a.JPEG,1,2,3,4\nval/b.JPEG,m.png,i.png"), FileLocalization, 2},
		{"unknown_id", with(FileLocalization, "val/a.JPEG,1,2,3,4\nval/z.JPEG,1,2,3,4"), FileLocalization, 2},
		{"size_not_int", with(FileImageSizes, "val/a.JPEG,500,375\nval/b.JPEG,10,2x"), FileImageSizes, 2},
		{"no_size", with(FileImageSizes, "val/a.JPEG,500,375"), FileImageSizes, 0},
		{"late_ignore", map[string]string{FileImageIDs: "a", FileClassLabels: "a,1",
			FileLocalization: "a,m1.png,i.png\na,m2.png,i.png"}, FileLocalization, 2},
		{"crlf", with(FileClassLabels, "val/a.JPEG,3\r\nval/b.JPEG,0"), FileClassLabels, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadMetadata(context.Background(), writeFiles(t, tc.files))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ReadMetadata() error = %v, want *ParseError", err)
			}
			if pe.File != tc.file || pe.Line != tc.line {
				t.Errorf("ReadMetadata() error at %s:%d, want %s:%d (%v)", pe.File, pe.Line, tc.file, tc.line, err)
			}
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrBox) {
				t.Errorf("ReadMetadata() error = %v, want ErrSyntax or ErrBox", err)
			}
			if !strings.Contains(err.Error(), tc.file) {
				t.Errorf("error %q does not name %s", err, tc.file)
			}
		})
	}
	if _, err := ReadMetadata(context.Background(), t.TempDir()); err == nil {
		t.Error("ReadMetadata(empty dir) error = nil")
	}
}

func TestWriteMetadata(t *testing.T) {
	for _, tc := range []struct {
		name  string
		d     *Dataset
		files map[string]string
	}{
		{"boxes", cubWant, cubLike},
		{"masks", openImagesWant, openImagesLike},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteMetadata(context.Background(), dir, tc.d); err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.files {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			back, err := ReadMetadata(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.d, back); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
	bad := &Dataset{Items: []Item{{ID: "a,b"}}}
	if err := WriteMetadata(context.Background(), t.TempDir(), bad); err == nil {
		t.Error("WriteMetadata(id with comma) error = nil")
	}
}

func TestManifest(t *testing.T) {
	for _, d := range []*Dataset{cubWant, openImagesWant} {
		path := filepath.Join(t.TempDir(), "m.json")
		if err := WriteManifest(context.Background(), path, d); err != nil {
			t.Fatal(err)
		}
		got, err := ReadManifest(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(d, got); diff != "" {
			t.Errorf("manifest round trip mismatch (-want +got):\n%s", diff)
		}
	}
	hand := `{"schema_version": 1, "images": [{"id": "a.jpg", "label": 2, "width": 10, "height": 20, "boxes": [[1, 2, 4, 3]]}]}`
	got, err := parseManifest(strings.NewReader(hand), "m.json")
	if err != nil {
		t.Fatal(err)
	}
	want := &Dataset{Items: []Item{{ID: "a.jpg", Label: 2, Size: image.Pt(10, 20), Boxes: []image.Rectangle{ref(1, 2, 4, 3)}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseManifest mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		`{"schema_version": 2, "images": []}`,
		`{"schema_version": 1, "images": [{"id": "a", "label": 0, "boxes": [[0, 0, 1, 1]]}]}`,
		`{"schema_version": 1, "images": [{"id": "a", "label": 0, "width": 2, "height": 2, "boxes": [[0, 0, 2, 1]]}]}`,
		`{"schema_version": 1, "images": [{"id": "a"}, {"id": "a"}]}`,
		`{"schema_version": 1, "images": [], "extra": 1}`,
	} {
		if _, err := parseManifest(strings.NewReader(bad), "m.json"); err == nil {
			t.Errorf("parseManifest(%s) error = nil", bad)
		}
	}
}

func TestFingerprint(t *testing.T) {
	a, b := cubWant.Fingerprint(), openImagesWant.Fingerprint()
	if a == b || len(a) != 32 {
		t.Errorf("Fingerprint() = %q, %q; want distinct 32-hex strings", a, b)
	}
	if a != cubWant.Fingerprint() {
		t.Error("Fingerprint() is not deterministic")
	}
}
