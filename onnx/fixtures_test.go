package onnx_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutmixcam/cutmix-cam/onnx"
	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
	"github.com/cutmixcam/cutmix-cam/wsol"
)

// trainRecord is the part of testdata/train/<model>.json, the record
// testdata/train/train.py writes beside each exported model, that the
// fixture tests check against.
type trainRecord struct {
	Model        string  `json:"model"`
	SHA256       string  `json:"sha256"`
	EvalAccuracy float64 `json:"eval_accuracy"`
	NEval        int     `json:"n_eval"`
}

// TestFashionMNISTModels checks the four trained fixture classifiers: each
// loads, has the CAM layer and Gemm head train.py exports, is the file its
// training record and model card describe, and classifies the committed
// evaluation split (testdata/fmnist-wsol) with the recorded accuracy. The
// preprocessing is the CLI's --norm unit at the native 64×64 size, as in
// training; the tolerance of 0.5 percentage points allows for float
// differences between PyTorch and ONNX Runtime near decision boundaries.
func TestFashionMNISTModels(t *testing.T) {
	needRuntime(t)
	ctx := context.Background()
	data, err := wsol.ReadMetadata(ctx, fixture("fmnist-wsol", "metadata"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(data.Items); n < 500 {
		t.Fatalf("evaluation split has %d images, want at least 500", n)
	}
	cfg := preprocess.Config{Width: 64, Height: 64, Norm: preprocess.Unit}
	input := make([]float32, len(data.Items)*cfg.Len())
	for i, it := range data.Items {
		img, err := preprocess.Load(fixture("fmnist-wsol", filepath.FromSlash(it.ID)), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 64 || it.Size.X != 64 || it.Size.Y != 64 {
			t.Fatalf("%s: image %v, metadata size %v, want 64×64", it.ID, b, it.Size)
		}
		if err := cfg.Tensor(input[i*cfg.Len():(i+1)*cfg.Len()], img); err != nil {
			t.Fatal(err)
		}
	}
	card, err := os.ReadFile(fixture("models", "README.md"))
	if err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"fmnist_baseline", "fmnist_cutmix", "fmnist_mixup", "fmnist_cutout"} {
		t.Run(name, func(t *testing.T) {
			var rec trainRecord
			b, err := os.ReadFile(fixture("train", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &rec); err != nil {
				t.Fatalf("%s.json: %v", name, err)
			}
			if rec.Model != name || rec.NEval != len(data.Items) {
				t.Fatalf("%s.json describes model %q on %d images, want %q on %d", name, rec.Model, rec.NEval, name, len(data.Items))
			}
			if !strings.Contains(string(card), rec.SHA256) {
				t.Errorf("models/README.md does not list %s's sha256 %s", name, rec.SHA256)
			}

			m := openModel(t, fixture("models", name+".onnx"), onnx.Options{Threads: 1})
			if got := m.SHA256(); got != rec.SHA256 {
				t.Errorf("SHA256() = %s, want %s (from %s.json)", got, rec.SHA256, name)
			}
			if c, h, w := m.InputShape(); c != 3 || h != 64 || w != 64 {
				t.Errorf("InputShape() = %d, %d, %d, want 3, 64, 64", c, h, w)
			}
			l, err := m.TargetLayer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := (onnx.Layer{Tensor: "features", Pool: "GlobalAveragePool", Pooled: l.Pooled, Channels: 64, Height: 16, Width: 16}); l != want {
				t.Errorf("TargetLayer() = %+v, want %+v", l, want)
			}
			h, err := m.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if h.Op != "Gemm" || h.Output != "logits" || h.Classes != 10 || h.Channels != 64 {
				t.Errorf("Head() = %s → %s, %d×%d, want Gemm → logits, 10×64", h.Op, h.Output, h.Classes, h.Channels)
			}

			out, err := m.Run(ctx, input, len(data.Items))
			if err != nil {
				t.Fatal(err)
			}
			logits := out[0].Data
			if len(logits) != 10*len(data.Items) {
				t.Fatalf("logits has %d values, want %d", len(logits), 10*len(data.Items))
			}
			correct := 0
			for i, it := range data.Items {
				row := logits[i*10 : (i+1)*10]
				best := 0
				for k, v := range row {
					if v > row[best] {
						best = k
					}
				}
				if best == it.Label {
					correct++
				}
			}
			got := float64(correct) / float64(len(data.Items))
			t.Logf("accuracy %.4f (%d/%d), recorded %.4f", got, correct, len(data.Items), rec.EvalAccuracy)
			if math.Abs(got-rec.EvalAccuracy) > 0.005 {
				t.Errorf("accuracy on fmnist-wsol = %.4f (%d/%d), want %.4f ± 0.005", got, correct, len(data.Items), rec.EvalAccuracy)
			}
		})
	}
}
