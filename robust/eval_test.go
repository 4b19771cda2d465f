package robust_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cutmixcam/cutmix-cam/robust"
)

func argmax32(row []float32) int {
	best := 0
	for j := range row {
		if row[j] > row[best] {
			best = j
		}
	}
	return best
}

func TestEvalFGSMMatchesPerImage(t *testing.T) {
	ctx := context.Background()
	m := randomLinear(4, 3, 6, 6, 11)
	d := randomData(m, 11, 0, 1, 12)
	eps := []float64{2.0 / 255, 8.0 / 255, 0.2}
	dim := m.dim()
	for _, target := range []robust.Target{robust.Untargeted, robust.TargetRandom, robust.TargetLeastLikely} {
		// The expected counts, one image at a time.
		var cleanOK int
		correct, success, hits := make([]int, len(eps)), make([]int, len(eps)), make([]int, len(eps))
		for i := range d.Len() {
			x := robust.Batch{Data: d.Pixels[i*dim : (i+1)*dim], N: 1, C: 3, H: 6, W: 6}
			clean, _, _ := m.Logits(ctx, x)
			y := d.Labels[i]
			ok := argmax32(clean) == y
			if ok {
				cleanOK++
			}
			tgt := y
			switch target {
			case robust.TargetRandom:
				tgt = rand.New(rand.NewPCG(5, 1<<62|uint64(i))).IntN(m.k - 1)
				if tgt >= y {
					tgt++
				}
			case robust.TargetLeastLikely:
				tgt = 0
				for k := range clean {
					if clean[k] < clean[tgt] {
						tgt = k
					}
				}
			}
			for j, e := range eps {
				adv, err := robust.FGSM{Epsilon: e, Targeted: target != robust.Untargeted}.Perturb(ctx, m, x, []int{tgt})
				if err != nil {
					t.Fatal(err)
				}
				l, _, _ := m.Logits(ctx, adv)
				p := argmax32(l)
				if p == y {
					correct[j]++
				}
				if ok && p != y {
					success[j]++
				}
				if ok && target != robust.Untargeted && p == tgt {
					hits[j]++
				}
			}
		}
		for _, bs := range []int{1, 4, 32} {
			m.grads, m.forwards = 0, 0
			res, err := robust.EvalFGSM(ctx, m, d, robust.Config{BatchSize: bs, Epsilons: eps, Target: target, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			if res.Images != 11 || res.CleanCorrect != cleanOK {
				t.Errorf("%v bs %d: images %d clean correct %d, want 11, %d", target, bs, res.Images, res.CleanCorrect, cleanOK)
			}
			for j := range eps {
				p := res.Points[j]
				if p.Correct != correct[j] || p.Successes != success[j] || p.TargetHits != hits[j] {
					t.Errorf("%v bs %d ε %v: correct %d successes %d hits %d, want %d %d %d",
						target, bs, eps[j], p.Correct, p.Successes, p.TargetHits, correct[j], success[j], hits[j])
				}
				if p.MaxLinf > eps[j]+1e-7 {
					t.Errorf("ε %v: max |δ| = %v", eps[j], p.MaxLinf)
				}
				if want := float64(success[j]) / float64(cleanOK); math.Abs(p.SuccessRate-want) > 1e-12 {
					t.Errorf("success rate %v, want %v", p.SuccessRate, want)
				}
			}
			eff := min(bs, 11)
			batches := (11 + eff - 1) / eff
			wantFwd := batches * len(eps)
			if target != robust.Untargeted {
				wantFwd += batches
			}
			if m.grads != batches || m.forwards != wantFwd {
				t.Errorf("%v bs %d: %d gradients, %d forwards, want %d, %d", target, bs, m.grads, m.forwards, batches, wantFwd)
			}
		}
	}
}

func TestEvalPGDBatchIndependent(t *testing.T) {
	ctx := context.Background()
	m := randomLinear(3, 2, 5, 5, 21)
	d := randomData(m, 7, 0, 1, 22)
	var first []byte
	for _, bs := range []int{1, 3, 7, 100} {
		res, err := robust.EvalPGD(ctx, m, d, robust.Config{BatchSize: bs, Seed: 9, PGD: robust.PGD{Steps: 3, Epsilon: 0.1, Step: 0.04}})
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(res)
		if first == nil {
			first = js
			if res.Points[0].Successes == 0 || !res.RandomStart || res.Steps != 3 {
				t.Errorf("PGD result %s: want some successes, random start and 3 steps", js)
			}
			continue
		}
		if string(js) != string(first) {
			t.Errorf("batch size %d: %s, batch size 1: %s", bs, js, first)
		}
	}
}

func TestEvalOcclusion(t *testing.T) {
	ctx := context.Background()
	// Grey images of class 1 under the prototype model (0: black,
	// 1: grey, 2: white): the prediction follows the mean pixel value.
	d := &robust.Data{Pixels: make([]float32, 3*16), Labels: []int{1, 1, 1}, C: 1, H: 4, W: 4}
	for i := range d.Pixels {
		d.Pixels[i] = 0.5
	}
	tests := []struct {
		name   string
		occ    robust.Occlusion
		fill   []float64
		center []int
		bound  []int
	}{
		// Hole areas 0, 1, 4, 9, 16 px: centre means .5 .47 .38 .22 0,
		// boundary means 0 .03 .13 .28 .5.
		{"black", robust.Occlusion{Steps: 4}, []float64{0}, []int{0, 0, 0, 3, 3}, []int{3, 3, 3, 0, 0}},
		{"mean given", robust.Occlusion{Steps: 4, Fill: robust.FillMean, Mean: []float64{0.5}}, []float64{0.5}, []int{0, 0, 0, 0, 0}, []int{0, 0, 0, 0, 0}},
		{"dataset mean", robust.Occlusion{Steps: 4, Fill: robust.FillMean}, []float64{0.5}, []int{0, 0, 0, 0, 0}, []int{0, 0, 0, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := robust.EvalOcclusion(ctx, prototype{k: 3}, d, robust.Config{BatchSize: 2, Occlusion: tc.occ})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.FillValue) != 1 || math.Abs(res.FillValue[0]-tc.fill[0]) > 1e-7 {
				t.Errorf("fill value %v, want %v", res.FillValue, tc.fill)
			}
			for i, want := range [][]int{tc.center, tc.bound} {
				cv := res.Curves[i]
				for k, p := range cv.Points {
					if p.Errors != want[k] || p.Error != float64(want[k])/3 {
						t.Errorf("%s k=%d: %d errors (%v), want %d", cv.Occluder, k, p.Errors, p.Error, want[k])
					}
					if p.HoleWidth != k || p.Size224 != 56*float64(k) {
						t.Errorf("%s k=%d: hole %d, size_224 %v", cv.Occluder, k, p.HoleWidth, p.Size224)
					}
				}
			}
		})
	}
}

func TestEvalBetween(t *testing.T) {
	ctx := context.Background()
	// Two black images (class 0) and two white ones (class 2): every pair
	// mixes black and white, and the prototype model predicts grey
	// (class 1, neither) when the mean lies in (0.25, 0.75).
	d := &robust.Data{Pixels: make([]float32, 4*25), Labels: []int{0, 2, 0, 2}, C: 1, H: 5, W: 5}
	for i := 25; i < 50; i++ {
		d.Pixels[i] = 1
	}
	for i := 75; i < 100; i++ {
		d.Pixels[i] = 1
	}
	var calls []int
	res, err := robust.EvalBetween(ctx, prototype{k: 3}, d, robust.Config{BatchSize: 3, Seed: 1,
		Between:  robust.Between{Steps: 5, Pairs: 6},
		Progress: func(s robust.Stage, done, total int) { calls = append(calls, done, total) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pairs != 6 || len(res.Curves) != 2 {
		t.Fatalf("pairs %d curves %d, want 6 and 2", res.Pairs, len(res.Curves))
	}
	tests := []struct {
		mix     string
		lambda  []float64
		neither []int
	}{
		{"mixup", []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, []int{0, 0, 6, 6, 0, 0}},
		{"cutmix", []float64{0, 9.0 / 25, 16.0 / 25, 21.0 / 25, 24.0 / 25, 1}, []int{0, 6, 6, 0, 0, 0}},
	}
	for i, tc := range tests {
		cv := res.Curves[i]
		if cv.Mix != tc.mix {
			t.Errorf("curve %d is %s, want %s", i, cv.Mix, tc.mix)
		}
		for k, p := range cv.Points {
			if math.Abs(p.Lambda-tc.lambda[k]) > 1e-12 || p.Neither != tc.neither[k] {
				t.Errorf("%s point %d: λ %v neither %d, want %v, %d", tc.mix, k, p.Lambda, p.Neither, tc.lambda[k], tc.neither[k])
			}
			if p.PredA+p.PredB+p.Neither != 6 {
				t.Errorf("%s point %d: %d + %d + %d pairs", tc.mix, k, p.PredA, p.PredB, p.Neither)
			}
		}
		if first, last := cv.Points[0], cv.Points[len(cv.Points)-1]; first.PredB != 6 || last.PredA != 6 {
			t.Errorf("%s: λ=0 predicts B %d times, λ=1 predicts A %d times, want 6, 6", tc.mix, first.PredB, last.PredA)
		}
	}
	if cm := res.Curves[1].Points; cm[1].HoleWidth != 4 || cm[5].HoleWidth != 0 {
		t.Errorf("cutmix holes %d, %d, want 4, 0", cm[1].HoleWidth, cm[5].HoleWidth)
	}
	if want := []int{3, 6, 6, 6}; len(calls) != 4 || calls[0] != want[0] || calls[2] != want[2] || calls[3] != want[3] {
		t.Errorf("progress calls %v, want %v", calls, want)
	}
}

func TestPair(t *testing.T) {
	labels := []int{3, 3, 5, 3, 7, 5, 5}
	seen := map[int]bool{}
	for i := range 40 {
		a, b, err := robust.Pair(labels, 11, i)
		if err != nil {
			t.Fatal(err)
		}
		if a != i%len(labels) || labels[a] == labels[b] {
			t.Errorf("Pair(%d) = %d, %d (classes %d, %d)", i, a, b, labels[a], labels[b])
		}
		a2, b2, _ := robust.Pair(labels, 11, i)
		if a2 != a || b2 != b {
			t.Errorf("Pair(%d) not deterministic", i)
		}
		seen[b] = true
	}
	if len(seen) != len(labels) {
		t.Errorf("partners cover %d of %d images", len(seen), len(labels))
	}
	if _, _, err := robust.Pair([]int{1, 1}, 0, 0); !errors.Is(err, robust.ErrClasses) {
		t.Errorf("one class: error %v, want ErrClasses", err)
	}
}

func TestNoGradients(t *testing.T) {
	ctx := context.Background()
	m := randomLinear(3, 1, 4, 4, 31)
	d := randomData(m, 4, 0, 1, 32)
	for _, model := range []robust.Model{logitsOnly{m}, noPath{logitsOnly{m}}} {
		if _, err := robust.EvalFGSM(ctx, model, d, robust.Config{}); !errors.Is(err, robust.ErrNoGradients) {
			t.Errorf("EvalFGSM(%T) error %v, want ErrNoGradients", model, err)
		}
		if _, err := robust.EvalPGD(ctx, model, d, robust.Config{}); !errors.Is(err, robust.ErrNoGradients) {
			t.Errorf("EvalPGD(%T) error %v, want ErrNoGradients", model, err)
		}
		if _, err := robust.EvalOcclusion(ctx, model, d, robust.Config{}); err != nil {
			t.Errorf("EvalOcclusion(%T): %v", model, err)
		}
		r, err := robust.Evaluate(ctx, model, d, robust.Config{Between: robust.Between{Steps: 2}})
		if !errors.Is(err, robust.ErrNoGradients) {
			t.Errorf("Evaluate(%T) error %v, want ErrNoGradients", model, err)
		}
		if r == nil || r.FGSM != nil || r.Occlusion == nil || r.Between == nil || len(r.Skipped) != 1 || r.Skipped[0].Stage != "fgsm" {
			t.Errorf("Evaluate(%T) report %+v: want occlusion and between, FGSM skipped", model, r)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	ctx := context.Background()
	m := randomLinear(3, 1, 2, 2, 1)
	good := robust.Data{Pixels: make([]float32, 8), Labels: []int{0, 1}, C: 1, H: 2, W: 2}
	unlabelled := good
	unlabelled.Labels = []int{0, -1}
	bright := good
	bright.Pixels = []float32{0, 0, 0, 1.5, 0, 0, 0, 0}
	oneClass := good
	oneClass.Labels = []int{1, 1}
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"empty", func() error {
			_, err := robust.EvalFGSM(ctx, m, robust.Data{C: 1, H: 2, W: 2}, robust.Config{})
			return err
		}, robust.ErrEmpty},
		{"nil data", func() error { _, err := robust.EvalOcclusion(ctx, m, nil, robust.Config{}); return err }, robust.ErrEmpty},
		{"no labels fgsm", func() error { _, err := robust.EvalFGSM(ctx, m, unlabelled, robust.Config{}); return err }, robust.ErrNoLabels},
		{"no labels occlusion", func() error { _, err := robust.EvalOcclusion(ctx, m, unlabelled, robust.Config{}); return err }, robust.ErrNoLabels},
		{"no labels between", func() error { _, err := robust.EvalBetween(ctx, m, unlabelled, robust.Config{}); return err }, robust.ErrNoLabels},
		{"no labels evaluate", func() error { _, err := robust.Evaluate(ctx, m, unlabelled, robust.Config{}); return err }, robust.ErrNoLabels},
		{"eps 0", func() error {
			_, err := robust.EvalFGSM(ctx, m, good, robust.Config{Epsilons: []float64{8.0 / 255, 0}})
			return err
		}, robust.ErrEpsilon},
		{"eps 2", func() error {
			_, err := robust.EvalFGSM(ctx, m, good, robust.Config{Epsilons: []float64{2}})
			return err
		}, robust.ErrEpsilon},
		{"pgd eps", func() error {
			_, err := robust.EvalPGD(ctx, m, good, robust.Config{PGD: robust.PGD{Epsilon: 1.01}})
			return err
		}, robust.ErrEpsilon},
		{"pgd steps", func() error {
			_, err := robust.EvalPGD(ctx, m, good, robust.Config{PGD: robust.PGD{Steps: -3}})
			return err
		}, robust.ErrSteps},
		{"pixel", func() error { _, err := robust.EvalFGSM(ctx, m, bright, robust.Config{}); return err }, robust.ErrPixel},
		{"occlusion steps", func() error {
			_, err := robust.EvalOcclusion(ctx, m, good, robust.Config{Occlusion: robust.Occlusion{Steps: -1}})
			return err
		}, robust.ErrSteps},
		{"occlusion mean", func() error {
			_, err := robust.EvalOcclusion(ctx, m, good, robust.Config{Occlusion: robust.Occlusion{Fill: robust.FillMean, Mean: []float64{0.4, 0.5}}})
			return err
		}, robust.ErrOption},
		{"one class", func() error { _, err := robust.EvalBetween(ctx, m, oneClass, robust.Config{}); return err }, robust.ErrClasses},
		{"label range", func() error {
			bad := good
			bad.Labels = []int{0, 7}
			_, err := robust.EvalOcclusion(ctx, m, bad, robust.Config{})
			return err
		}, robust.ErrClass},
		{"stage", func() error {
			_, err := robust.Evaluate(ctx, m, good, robust.Config{Stages: []robust.Stage{robust.Stage(9)}})
			return err
		}, robust.ErrOption},
		{"canceled", func() error {
			c, cancel := context.WithCancel(ctx)
			cancel()
			_, err := robust.EvalOcclusion(c, m, good, robust.Config{})
			return err
		}, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
}
