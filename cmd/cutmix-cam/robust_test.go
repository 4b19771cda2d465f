package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// imageFolder builds an ImageFolder tree of the committed test images:
// classes 0, 1 and 2 with two images each.
func imageFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]string{
		"a": {"shapes.png", "shapes.jpg"},
		"b": {"gray.png", "shapes.gif"},
		"c": {"shapes.png", "gray.png"},
	}
	for class, names := range files {
		if err := os.MkdirAll(filepath.Join(dir, class), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join("testdata", "images", n))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, class, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a class"), 0o644)
	return dir
}

func TestRobustCommand(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	data := imageFolder(t)
	plots := t.TempDir()
	out, errOut, code := cli(t, "-q", "--seed", "3", "robust", "--json", "--norm", "unit", "--fgsm", "2/255,8/255",
		"--pgd", "eps=8/255,step=2/255,steps=3", "--steps", "4", "--plots", plots, "--data", data, "testdata/models/tiny_cam.onnx")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep robustReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	r := rep.Report
	if rep.Seed != 3 || r.Images != 6 || r.FGSM == nil || r.PGD == nil || r.Occlusion == nil || r.Between == nil {
		t.Fatalf("robust --json = %s", out)
	}
	if len(r.FGSM.Points) != 2 || r.FGSM.Points[1].Epsilon255 != 8 || r.FGSM.Space != "pixel [0,1]" {
		t.Errorf("FGSM points %+v, space %q", r.FGSM.Points, r.FGSM.Space)
	}
	for _, p := range r.FGSM.Points {
		if p.MaxLinf > p.Epsilon+1e-6 {
			t.Errorf("FGSM ε=%g moved a pixel by %g", p.Epsilon, p.MaxLinf)
		}
	}
	if len(r.Occlusion.Curves) != 2 || len(r.Occlusion.Curves[0].Points) != 5 {
		t.Errorf("occlusion curves: %+v", r.Occlusion.Curves)
	}
	for _, f := range []string{"attack.png", "occlusion.png", "between.png"} {
		if _, err := os.Stat(filepath.Join(plots, f)); err != nil {
			t.Error(err)
		}
	}
	// Same seed, same numbers.
	out2, _, _ := cli(t, "-q", "--seed", "3", "robust", "--json", "--norm", "unit", "--fgsm", "2/255,8/255",
		"--pgd", "eps=8/255,step=2/255,steps=3", "--steps", "4", "--data", data, "testdata/models/tiny_cam.onnx")
	if out != out2 {
		t.Error("two runs with the same seed differ")
	}
}

func TestRobustBadInput(t *testing.T) {
	needRuntime(t)
	inRoot(t)
	data := imageFolder(t)
	unlabelled := t.TempDir()
	tests := []struct {
		args []string
		code exitCode
		text string
	}{
		{[]string{"robust", "testdata/models/tiny_cam.onnx"}, exitUsage, "--data"},
		{[]string{"robust", "--data", data, "--fgsm", "0", "m.onnx"}, exitUsage, "--fgsm"},
		{[]string{"robust", "--data", data, "--fgsm", "2", "m.onnx"}, exitUsage, "--fgsm"},
		{[]string{"robust", "--data", data, "--pgd", "steps=0", "m.onnx"}, exitUsage, "--pgd"},
		{[]string{"robust", "--data", data, "--occlusion", "left", "m.onnx"}, exitUsage, "--occlusion"},
		{[]string{"robust", "--data", data, "--fgsm", "none", "--occlusion", "none", "--inbetween=false", "m.onnx"}, exitUsage, "nothing to do"},
		{[]string{"robust", "--data", unlabelled, "testdata/models/tiny_cam.onnx"}, exitRuntime, "labels"},
		{[]string{"robust", "--data", "nosuch", "testdata/models/tiny_cam.onnx"}, exitRuntime, "folder not found"},
	}
	for _, tc := range tests {
		_, errOut, code := cli(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.text) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.text)
		}
	}
}
