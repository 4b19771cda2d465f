package onnx_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cutmixcam/cutmix-cam/internal/npy"
	"github.com/cutmixcam/cutmix-cam/onnx"
)

// torchManifest is testdata/torchref/manifest.json, written by
// testdata/torchref/export.py.
type torchManifest struct {
	Torch  string `json:"torch"`
	Models []struct {
		Name        string `json:"name"`
		Model       string `json:"model"`
		Objective   string `json:"objective"`
		Classes     []int  `json:"classes"`
		Target      string `json:"target"`
		TargetShape []int  `json:"target_shape"`
	} `json:"models"`
}

func readNpy(t *testing.T, path string) ([]int, []float32) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := npy.Read(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	v := make([]float32, len(a.Data))
	for i, x := range a.Data {
		v[i] = float32(x)
	}
	return a.Shape, v
}

// agreement returns max|got−want| / max|want| and the cosine similarity.
func agreement(got, want []float32) (rel, cos float64) {
	if len(got) != len(want) {
		return math.Inf(1), 0
	}
	var d, m, dot, ng, nw float64
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		d = math.Max(d, math.Abs(g-w))
		m = math.Max(m, math.Abs(w))
		dot += g * w
		ng += g * g
		nw += w * w
	}
	if m == 0 && d == 0 {
		return 0, 1 // both all zero (dead ReLUs in random networks)
	}
	return d / m, dot / math.Sqrt(ng*nw)
}

// TestGradientTorch compares input and target-layer gradients with
// PyTorch autograd on the models testdata/torchref/export.py exported
// (and, when CUTMIX_CAM_TORCH_REF names a folder written by its --full
// mode, on full torchvision classifiers): max error relative to the
// largest |gradient| ≤ 1e-4 and cosine ≥ 0.99999. Where the folder also
// holds export.py --forced references (PyTorch in float64 with ORT's branch
// decisions at every Relu, Clip and MaxPool), those must agree and the
// plain float32 ones are logged.
func TestGradientTorch(t *testing.T) {
	dirs := []string{fixture("torchref")}
	if d := os.Getenv("CUTMIX_CAM_TORCH_REF"); d != "" {
		dirs = append(dirs, d)
	}
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var man torchManifest
		if err := json.Unmarshal(b, &man); err != nil {
			t.Fatal(err)
		}
		for _, e := range man.Models {
			t.Run(e.Name, func(t *testing.T) {
				m := openModel(t, filepath.Join(dir, e.Model), onnx.Options{})
				xs, x := readNpy(t, filepath.Join(dir, e.Name+".x.npy"))
				_, gx := readNpy(t, filepath.Join(dir, e.Name+".gx.npy"))
				_, ga := readNpy(t, filepath.Join(dir, e.Name+".ga.npy"))
				obj, err := onnx.ParseObjective(e.Objective)
				if err != nil {
					t.Fatal(err)
				}
				target := torchTarget(t, m, e.Target)
				res, err := m.Gradient(context.Background(), x, xs[0], onnx.GradRequest{
					Objective: obj, Classes: e.Classes, Wrt: []string{m.Info().Inputs[0].Name, target}})
				if err != nil {
					t.Fatal(err)
				}
				// With forced references (export.py --forced), PyTorch took
				// ORT's branch decisions and those are the gradients that
				// must agree; the plain ones are reported, since a
				// pre-activation within float32 rounding of a kink makes
				// them differ legitimately (see kinks/main.go).
				strict := "PyTorch"
				if _, err := os.Stat(filepath.Join(dir, e.Name+".fgx.npy")); err == nil {
					strict = "PyTorch with ORT's branch decisions"
					_, fgx := readNpy(t, filepath.Join(dir, e.Name+".fgx.npy"))
					_, fga := readNpy(t, filepath.Join(dir, e.Name+".fga.npy"))
					for i, want := range [][]float32{gx, ga} {
						rel, cos := agreement(res.Grads[i].Data, want)
						t.Logf("%s: ∂/∂%s vs PyTorch float32: max error / max |grad| = %.2g, cosine = %.9f", e.Name, res.Grads[i].Name, rel, cos)
					}
					gx, ga = fgx, fga
				}
				for i, want := range [][]float32{gx, ga} {
					rel, cos := agreement(res.Grads[i].Data, want)
					t.Logf("%s: ∂/∂%s vs %s: max error / max |grad| = %.2g, cosine = %.9f", e.Name, res.Grads[i].Name, strict, rel, cos)
					if !(rel <= 1e-4 && cos >= 0.99999) {
						t.Errorf("%s: gradient of %s disagrees with %s: relative %.3g (≤ 1e-4), cosine %.7f (≥ 0.99999)", e.Name, res.Grads[i].Name, strict, rel, cos)
					}
				}
			})
		}
	}
}

// torchTarget finds the tensor export.py took gradients at: the input of
// the last average pooling (for every kind export.py records: with
// functional pooling, model.features ends in the activation that the
// pooling reads, or an in-place ReLU rebinds it to that activation).
func torchTarget(t *testing.T, m *onnx.Model, kind string) string {
	t.Helper()
	pool := ""
	for _, n := range m.Proto().GetGraph().GetNode() {
		switch n.GetOpType() {
		case "GlobalAveragePool", "AveragePool", "ReduceMean":
			pool = n.GetInput()[0]
		}
	}
	if pool == "" {
		t.Fatalf("no average pooling in the graph (target %s)", kind)
	}
	return pool
}
