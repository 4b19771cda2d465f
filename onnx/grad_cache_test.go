package onnx_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutmixcam/cutmix-cam/onnx"
)

// gradCacheRun opens path afresh with the gradient cache in dir, the
// in-memory cache emptied, and returns the gradient model and the gradient
// of req on a fixed batch of two images.
func gradCacheRun(t *testing.T, path, dir string, req onnx.GradRequest) ([]byte, *onnx.Gradient) {
	t.Helper()
	onnx.ResetGradCache()
	m := openModel(t, path, onnx.Options{Threads: 1, GradCache: dir})
	ctx := context.Background()
	data, err := m.GradientModel(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	c, h, w := m.InputShape()
	g, err := m.Gradient(ctx, randomInput(2*c*h*w, 3), 2, req)
	if err != nil {
		t.Fatal(err)
	}
	return data, g
}

// cacheFile returns the cache file of req for the model at path in dir.
func cacheFile(t *testing.T, path, dir string, req onnx.GradRequest) string {
	t.Helper()
	return onnx.GradCacheFile(openModel(t, path, onnx.Options{GradCache: dir}), req)
}

// cacheFiles lists the names in dir.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// sameGradient reports whether a and b hold bit-identical values.
func sameGradient(a, b *onnx.Gradient) bool {
	bits := cmp.Comparer(func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
	return cmp.Equal(a, b, bits)
}

var gradCacheCases = []struct {
	name  string
	model string
	req   onnx.GradRequest
}{
	{"input_logit", "tiny_cam.onnx", onnx.GradRequest{}},
	{"features_ce", "tiny_cam.onnx", onnx.GradRequest{Objective: onnx.CrossEntropy, Wrt: []string{"image", "features"}}},
	{"features_seed", "tiny_cam.onnx", onnx.GradRequest{Objective: onnx.Weighted, Wrt: []string{"features"}, Seed: []float32{1, -1, 0.5, 0, 2}}},
	{"gray_static", "tiny_gray_static.onnx", onnx.GradRequest{Objective: onnx.Probability}},
}

// TestGradCache checks that a cold run writes one file and that a fresh
// Model loads it, unchanged, with bit-identical results.
func TestGradCache(t *testing.T) {
	for _, tc := range gradCacheCases {
		t.Run(tc.name, func(t *testing.T) {
			path := fixture("models", tc.model)
			dir := filepath.Join(t.TempDir(), "cache", "grad") // created on first use
			coldData, cold := gradCacheRun(t, path, dir, tc.req)
			file := cacheFile(t, path, dir, tc.req)
			if got, want := cacheFiles(t, dir), []string{filepath.Base(file)}; !cmp.Equal(got, want) {
				t.Fatalf("cache folder after a cold run = %v, want %v", got, want)
			}
			before, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			warmData, warm := gradCacheRun(t, path, dir, tc.req)
			if !bytes.Equal(warmData, coldData) {
				t.Errorf("GradientModel from the disk cache differs from the built one (%d vs %d bytes)", len(warmData), len(coldData))
			}
			if !sameGradient(warm, cold) {
				t.Errorf("Gradient from the disk cache differs from the cold one: %s", cmp.Diff(cold, warm))
			}
			after, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if !os.SameFile(before, after) {
				t.Errorf("%s was rewritten by a warm run; want it read", file)
			}
		})
	}
}

// TestGradCacheDamaged checks that a file that must not be used is
// rebuilt and overwritten.
func TestGradCacheDamaged(t *testing.T) {
	path := fixture("models", "tiny_cam.onnx")
	req := onnx.GradRequest{Wrt: []string{"features"}}
	other := onnx.GradRequest{Objective: onnx.CrossEntropy}
	for _, tc := range []struct {
		name   string
		damage func(good, foreign []byte) []byte
	}{
		{"empty", func(good, _ []byte) []byte { return nil }},
		{"truncated", func(good, _ []byte) []byte { return good[:len(good)-10] }},
		{"header_only", func(good, _ []byte) []byte { return good[:bytes.IndexByte(good[30:], '\n')+31] }},
		{"garbage", func(good, _ []byte) []byte { return bytes.Repeat([]byte{0xa5, 0x00, '\n'}, 500) }},
		{"flipped_byte", func(good, _ []byte) []byte {
			b := bytes.Clone(good)
			b[len(b)-100] ^= 1
			return b
		}},
		{"old_format", func(good, _ []byte) []byte { return bytes.Replace(good, []byte(`"format":1`), []byte(`"format":0`), 1) }},
		{"other_builder", func(good, _ []byte) []byte {
			return bytes.Replace(good, []byte(`"builder":`), []byte(`"builder":9`), 1)
		}},
		{"foreign_key", func(_, foreign []byte) []byte { return foreign }},
		{"bad_json", func(good, _ []byte) []byte { return bytes.Replace(good, []byte(`{"format"`), []byte(`{"format`), 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			coldData, cold := gradCacheRun(t, path, dir, req)
			gradCacheRun(t, path, dir, other)
			file, otherFile := cacheFile(t, path, dir, req), cacheFile(t, path, dir, other)
			good, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			foreign, err := os.ReadFile(otherFile)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, tc.damage(good, foreign), 0o644); err != nil {
				t.Fatal(err)
			}
			data, g := gradCacheRun(t, path, dir, req)
			if !bytes.Equal(data, coldData) || !sameGradient(g, cold) {
				t.Errorf("a %s cache file changed the result", tc.name)
			}
			if b, _ := os.ReadFile(file); !bytes.Equal(b, good) {
				t.Errorf("a %s cache file was not rewritten: %d bytes, want %d", tc.name, len(b), len(good))
			}
			if n := len(cacheFiles(t, dir)); n != 2 {
				t.Errorf("%d files in the cache folder, want 2: %v", n, cacheFiles(t, dir))
			}
		})
	}
}

// TestGradCacheKeys checks that requests that build different graphs get
// different files, and the same request the same file.
func TestGradCacheKeys(t *testing.T) {
	dir := t.TempDir()
	tiny, gray := fixture("models", "tiny_cam.onnx"), fixture("models", "tiny_gray_static.onnx")
	for _, tc := range []struct {
		name         string
		pathA, pathB string
		a, b         onnx.GradRequest
		same         bool
	}{
		{"same", tiny, tiny, onnx.GradRequest{}, onnx.GradRequest{}, true},
		{"input_named", tiny, tiny, onnx.GradRequest{}, onnx.GradRequest{Wrt: []string{"image"}}, true},
		{"runtime_only_fields", tiny, tiny, onnx.GradRequest{}, onnx.GradRequest{Classes: []int{1}, Seed: []float32{1}}, true},
		{"objective", tiny, tiny, onnx.GradRequest{}, onnx.GradRequest{Objective: onnx.Probability}, false},
		{"targets", tiny, tiny, onnx.GradRequest{}, onnx.GradRequest{Wrt: []string{"features"}}, false},
		{"target_order", tiny, tiny, onnx.GradRequest{Wrt: []string{"image", "features"}}, onnx.GradRequest{Wrt: []string{"features", "image"}}, false},
		{"output", tiny, tiny, onnx.GradRequest{}, onnx.GradRequest{Output: "logits"}, false},
		{"model", tiny, gray, onnx.GradRequest{}, onnx.GradRequest{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := cacheFile(t, tc.pathA, dir, tc.a), cacheFile(t, tc.pathB, dir, tc.b)
			if (a == b) != tc.same {
				t.Errorf("cache files %s and %s: same = %v, want %v", filepath.Base(a), filepath.Base(b), a == b, tc.same)
			}
		})
	}
}

// TestGradCacheBadDir checks that a cache directory that cannot be created
// or written fails the call with an error naming it.
func TestGradCacheBadDir(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(root, "ro")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir string
	}{
		{"file_in_the_way", file},
		{"under_a_file", filepath.Join(file, "cache")},
		{"read_only", readOnly},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "read_only" && (runtime.GOOS == "windows" || os.Geteuid() == 0) {
				t.Skip("permissions do not stop this user")
			}
			onnx.ResetGradCache()
			m := openModel(t, fixture("models", "tiny_cam.onnx"), onnx.Options{GradCache: tc.dir})
			_, err := m.GradientModel(context.Background(), onnx.GradRequest{})
			if err == nil || !strings.Contains(err.Error(), tc.dir) {
				t.Errorf("GradientModel with the cache in %s: error %v, want one naming the folder", tc.dir, err)
			}
		})
	}
}
