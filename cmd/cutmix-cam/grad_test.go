package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutmixcam/cutmix-cam/internal/npy"
)

func TestGradHelpGolden(t *testing.T) {
	inRoot(t)
	out, _, code := cli(t, "grad", "--help")
	if code != exitOK {
		t.Fatalf("grad --help: exit %d", code)
	}
	golden(t, "help_grad.golden", out)
}

// TestGradFlagsBind checks the flag half of grad without running a model.
func TestGradFlagsBind(t *testing.T) {
	var got *gradOptions
	g := &globalOptions{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}
	cmd := newGradCmd(g, func(o *gradOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--wrt", "input", "--wrt", "a/b:0", "--class", "3", "--objective", "ce", "-o", "out", "m.onnx", "a.png", "b.png"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.class != "3" || got.objective != "ce" || got.out != "out" || len(got.wrt) != 2 || got.wrt[1] != "a/b:0" || len(got.images) != 2 {
		t.Errorf("options = %+v", got)
	}
}

func TestGrad(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	dir := t.TempDir()
	out, errOut, code := cli(t, "grad", "--json", "--wrt", "input", "--wrt", "features", "--class", "2", "--objective", "prob",
		"--out", dir, "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png", "testdata/images/gray.png")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep gradReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 || rep.Results[0].Class != 2 || rep.Objective != "prob" {
		t.Fatalf("report = %+v", rep)
	}
	for _, f := range []struct {
		name  string
		shape []int
	}{
		{"shapes.png.input.grad.npy", []int{1, 3, 16, 16}},
		{"gray.png.features.grad.npy", []int{1, 6, 8, 8}},
		{"gray.png.features.npy", []int{1, 6, 8, 8}},
	} {
		fh, err := os.Open(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		a, err := npy.Read(fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		if a.DType != npy.Float32 || len(a.Shape) != len(f.shape) || a.Shape[1] != f.shape[1] || a.Shape[3] != f.shape[3] {
			t.Errorf("%s: shape %v dtype %v, want %v float32", f.name, a.Shape, a.DType, f.shape)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "shapes.png.saliency.png")); err != nil {
		t.Error(err)
	}
}

func TestGradBadInput(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		code exitCode
		text string
	}{
		{"unknown tensor", []string{"--wrt", "nope", "-o", dir, "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png"}, exitRuntime, "candidates: conv2, features"},
		{"bad class", []string{"--class", "first", "-o", dir, "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png"}, exitUsage, "--class"},
		{"class out of range", []string{"--class", "9", "-o", dir, "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png"}, exitRuntime, "out of range"},
		{"bad objective", []string{"--objective", "seed", "-o", dir, "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png"}, exitUsage, "--objective"},
		{"no out", []string{"testdata/models/tiny_cam.onnx", "testdata/images/shapes.png"}, exitUsage, "--out"},
		{"same names", []string{"-o", dir, "testdata/models/tiny_cam.onnx", "testdata/images/shapes.png", "./testdata/images/shapes.png"}, exitUsage, "collide"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := cli(t, append([]string{"grad"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.text) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q on one line", code, errOut, tc.code, tc.text)
			}
		})
	}
}
