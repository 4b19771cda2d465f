package onnx_test

import (
	"context"
	"math"
	"testing"

	"github.com/cutmixcam/cutmix-cam/onnx"
	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
	"github.com/cutmixcam/cutmix-cam/robust"
)

// TestRobustTorch compares FGSM and PGD (no random start) through
// onnx.Pixels with PyTorch's (testdata/torchref/camref.py), in [0, 1] pixel
// space with each model's normalisation inside the differentiated path:
//
//   - the sign of ∂CE/∂x equals PyTorch's wherever PyTorch's |∂| exceeds
//     1e-6 of its largest value in that image (positions below are ties);
//   - FGSM's x_adv is within 1e-6 of PyTorch's at every position but ties,
//     whose differences are counted and logged;
//   - PGD's x_adv after each stored step is within 1e-6 of PyTorch's loop at
//     every position but at most as many as PyTorch's loop had ties.
func TestRobustTorch(t *testing.T) {
	man := readTorchRef(t)
	ctx := context.Background()
	for _, e := range man.Models {
		t.Run(e.Name, func(t *testing.T) {
			m := openModel(t, refPath(e.Model), onnx.Options{Threads: 1})
			norm, err := preprocess.ParseNorm(e.Norm)
			if err != nil {
				t.Fatal(err)
			}
			px := &onnx.Pixels{Model: m, Norm: norm}
			xs, p := readNpyBytes(t, refPath(e.AdvX))
			n := e.AdvImages
			size := xs[1] * xs[2] * xs[3]
			x := robust.Batch{Data: pixels(p[:n*size]), N: n, C: xs[1], H: xs[2], W: xs[3]}

			// Gradient signs.
			_, _, g, err := px.LossGradient(ctx, x, e.Labels)
			if err != nil {
				t.Fatal(err)
			}
			_, sgn := readNpyBytes(t, refPath(e.FGSMSign))
			var mismatch, ties, tiesNonzero int
			for i, s := range sgn {
				gs := 0
				switch {
				case g[i] > 0:
					gs = 1
				case g[i] < 0:
					gs = -1
				}
				if s == 0 {
					ties++
					if gs != 0 {
						tiesNonzero++
					}
					continue
				}
				if gs != s {
					mismatch++
				}
			}
			t.Logf("%s: ∂CE/∂x sign: %d of %d positions differ from PyTorch's where |∂| > 1e-6·max; %d ties (%d of them nonzero in Go)", e.Name, mismatch, len(sgn), ties, tiesNonzero)
			if mismatch > 0 {
				t.Errorf("%s: %d gradient signs differ from PyTorch's above the tie threshold", e.Name, mismatch)
			}

			// FGSM.
			adv, err := robust.FGSM{Epsilon: float64(e.FGSMEps255) / 255}.Perturb(ctx, px, x, e.Labels)
			if err != nil {
				t.Fatal(err)
			}
			_, fp := readNpyBytes(t, refPath(e.FGSM))
			want := pixels(fp)
			var maxD float64
			tieDiff := 0
			for i, v := range adv.Data {
				d := math.Abs(float64(v) - float64(want[i]))
				if sgn[i] == 0 {
					if d > 1e-6 {
						tieDiff++
					}
					continue
				}
				maxD = math.Max(maxD, d)
			}
			t.Logf("%s: FGSM ε=%d/255: max |Δx_adv| %.3g off ties; %d of %d tie positions differ", e.Name, e.FGSMEps255, maxD, tieDiff, ties)
			if maxD > 1e-6 {
				t.Errorf("%s: FGSM x_adv differs from PyTorch's by %.3g away from ties, want ≤ 1e-6", e.Name, maxD)
			}

			// PGD, step by step.
			ps, pp := readNpyBytes(t, refPath(e.PGD))
			stored := ps[0]
			first := e.PGDSteps - stored + 1
			cum := 0
			for s := 1; s <= e.PGDSteps; s++ {
				cum += e.PGDTiesPerStep[s-1]
				if s < first {
					continue
				}
				pgd := robust.PGD{Epsilon: float64(e.PGDEps255) / 255, Step: float64(e.PGDStep255) / 255, Steps: s, NoRandomStart: true}
				adv, err := pgd.Perturb(ctx, px, x, e.Labels)
				if err != nil {
					t.Fatal(err)
				}
				k := s - first
				want := pixels(pp[k*len(adv.Data) : (k+1)*len(adv.Data)])
				var maxD float64
				diff := 0
				for i, v := range adv.Data {
					d := math.Abs(float64(v) - float64(want[i]))
					if d > 1e-6 {
						diff++
					} else {
						maxD = math.Max(maxD, d)
					}
				}
				t.Logf("%s: PGD ε=%d/255 α=%d/255 step %d: %d positions differ by > 1e-6 (PyTorch ties so far: %d); max |Δ| elsewhere %.3g",
					e.Name, e.PGDEps255, e.PGDStep255, s, diff, cum, maxD)
				if diff > cum {
					t.Errorf("%s: PGD step %d: %d positions differ from PyTorch's loop, more than its %d ties", e.Name, s, diff, cum)
				}
			}
		})
	}
}
