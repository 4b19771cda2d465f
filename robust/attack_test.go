package robust_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cutmixcam/cutmix-cam/robust"
)

// handModel is the 2-class model of 1×1×3 images with
// W = [[1, −1, 0], [−1, 1, 0]], no bias, mean 0 and std 1. For label 0,
// ∇CE = −2(1−p₀)·(1, −1, 0): sign (−1, +1, 0); for label 1 the opposite.
func handModel() *linear {
	return &linear{k: 2, c: 1, h: 1, w: 3,
		weight: []float64{1, -1, 0, -1, 1, 0}, bias: []float64{0, 0},
		mean: []float64{0}, std: []float64{1}}
}

func TestFGSMByHand(t *testing.T) {
	const eps = 8.0 / 255
	e := float32(eps)
	tests := []struct {
		name     string
		x        []float32
		label    int
		targeted bool
		want     []float32
	}{
		// sign (−1, +1, 0): pixel 1 clips at 1, pixel 2 has sign(0) = 0.
		{"untargeted", []float32{0.5, 1, 0}, 0, false, []float32{0.5 - e, 1, 0}},
		// pixel 0 clips at 0; the zero-gradient pixel keeps its value.
		{"clip low", []float32{0, 0.5, 0.2}, 0, false, []float32{0, 0.5 + e, 0.2}},
		// label 1 flips the signs.
		{"untargeted label 1", []float32{0.5, 0.5, 0.7}, 1, false, []float32{0.5 + e, 0.5 - e, 0.7}},
		// targeted at class 1 steps down CE(1): x − ε·(+1, −1, 0).
		{"targeted", []float32{0.5, 0.25, 0.3}, 1, true, []float32{0.5 - e, 0.25 + e, 0.3}},
		{"targeted clip", []float32{0.01, 1, 0.3}, 1, true, []float32{0, 1, 0.3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := robust.Batch{Data: append([]float32(nil), tc.x...), N: 1, C: 1, H: 1, W: 3}
			adv, err := robust.FGSM{Epsilon: eps, Targeted: tc.targeted}.Perturb(context.Background(), handModel(), x, []int{tc.label})
			if err != nil {
				t.Fatal(err)
			}
			if !equal32(adv.Data, tc.want) {
				t.Errorf("FGSM(%v, %d) = %v, want %v", tc.x, tc.label, adv.Data, tc.want)
			}
			if !equal32(x.Data, tc.x) {
				t.Errorf("FGSM modified its input: %v, was %v", x.Data, tc.x)
			}
		})
	}
}

func equal32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func sign64(v float64) float32 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func clamp32(v, lo, hi float32) float32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// TestFGSMClosedForm checks FGSM against the closed-form gradient of a
// random softmax regression, bit for bit, for several ε, both modes.
func TestFGSMClosedForm(t *testing.T) {
	m := randomLinear(4, 3, 5, 6, 1)
	d := randomData(m, 5, 0, 1, 2)
	x := robust.Batch{Data: d.Pixels, N: 5, C: 3, H: 5, W: 6}
	targets := []int{1, 2, 3, 0, 1}
	dim := m.dim()
	for _, targeted := range []bool{false, true} {
		for _, eps := range []float64{1.0 / 255, 8.0 / 255, 0.3, 1} {
			labels := d.Labels
			if targeted {
				labels = targets
			}
			adv, err := robust.FGSM{Epsilon: eps, Targeted: targeted}.Perturb(context.Background(), m, x, labels)
			if err != nil {
				t.Fatal(err)
			}
			for n := range x.N {
				xs := x.Data[n*dim : (n+1)*dim]
				g := m.grad64(xs, labels[n])
				for i, v := range xs {
					s := sign64(g[i])
					if targeted {
						s = -s
					}
					want := clamp32(v+float32(eps)*s, 0, 1)
					if got := adv.Data[n*dim+i]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("targeted=%v eps=%v image %d pixel %d: got %v, want %v", targeted, eps, n, i, got, want)
					}
				}
			}
		}
	}
}

// refPGD is an independent PGD loop, image by image, after torchattacks'
// pgd.py: random start from rand.NewPCG(seed, n), then steps of
// α·sign(∇), projection onto the ε-ball and clipping to [0, 1].
func refPGD(m *linear, x []float32, labels []int, eps, alpha float64, steps int, seed uint64, randomStart, targeted bool) []float32 {
	dim := m.dim()
	e, a := float32(eps), float32(alpha)
	out := make([]float32, len(x))
	for n := range len(x) / dim {
		xs := x[n*dim : (n+1)*dim]
		adv := out[n*dim : (n+1)*dim]
		copy(adv, xs)
		if randomStart {
			r := rand.New(rand.NewPCG(seed, uint64(n)))
			for i := range adv {
				u := float32((2*r.Float64() - 1) * eps)
				adv[i] = clamp32(xs[i]+u, 0, 1)
			}
		}
		for range steps {
			g := m.grad64(adv, labels[n])
			for i := range adv {
				s := sign64(float64(float32(g[i])))
				if targeted {
					s = -s
				}
				stepped := adv[i] + a*s
				delta := clamp32(stepped-xs[i], -e, e)
				adv[i] = clamp32(xs[i]+delta, 0, 1)
			}
		}
	}
	return out
}

func TestPGDMatchesReference(t *testing.T) {
	m := randomLinear(3, 2, 4, 4, 3)
	d := randomData(m, 4, 0, 1, 4)
	x := robust.Batch{Data: d.Pixels, N: 4, C: 2, H: 4, W: 4}
	tests := []struct {
		name string
		pgd  robust.PGD
	}{
		{"defaults", robust.PGD{}},
		{"seed 7", robust.PGD{Seed: 7}},
		{"no random start", robust.PGD{NoRandomStart: true}},
		{"large step", robust.PGD{Epsilon: 0.1, Step: 0.07, Steps: 5}},
		{"targeted", robust.PGD{Targeted: true, Steps: 3, Seed: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.pgd
			eps, step, steps := p.Epsilon, p.Step, p.Steps
			if eps == 0 {
				eps = 8.0 / 255
			}
			if step == 0 {
				step = 2.0 / 255
			}
			if steps == 0 {
				steps = 10
			}
			labels := d.Labels
			if p.Targeted {
				labels = []int{2, 0, 1, 2}
			}
			got, err := p.Perturb(context.Background(), m, x, labels)
			if err != nil {
				t.Fatal(err)
			}
			want := refPGD(m, x.Data, labels, eps, step, steps, p.Seed, !p.NoRandomStart, p.Targeted)
			if !equal32(got.Data, want) {
				t.Errorf("PGD%+v differs from the reference loop", p)
			}
			checkBall(t, x.Data, got.Data, eps)
			// Step by step: the iterate after s steps, for every s.
			for s := 1; s < steps; s++ {
				q := p
				q.Steps = s
				got, err := q.Perturb(context.Background(), m, x, labels)
				if err != nil {
					t.Fatal(err)
				}
				if !equal32(got.Data, refPGD(m, x.Data, labels, eps, step, s, p.Seed, !p.NoRandomStart, p.Targeted)) {
					t.Fatalf("PGD%+v differs from the reference loop after %d steps", p, s)
				}
			}
		})
	}
}

// checkBall checks ‖adv − x‖∞ ≤ ε + 1e-7 and adv ∈ [0, 1].
func checkBall(t *testing.T, x, adv []float32, eps float64) {
	t.Helper()
	for i := range x {
		if d := math.Abs(float64(adv[i]) - float64(x[i])); d > eps+1e-7 {
			t.Fatalf("pixel %d: |x_adv − x| = %v > ε = %v", i, d, eps)
		}
		if adv[i] < 0 || adv[i] > 1 {
			t.Fatalf("pixel %d: x_adv = %v outside [0, 1]", i, adv[i])
		}
	}
}

func TestPGDInvariants(t *testing.T) {
	m := randomLinear(5, 3, 6, 6, 5)
	for seed := range uint64(6) {
		// Pixels near the borders exercise the [0, 1] clip.
		d := randomData(m, 3, 0, 1, seed)
		for i := range d.Pixels {
			switch i % 7 {
			case 0:
				d.Pixels[i] = 0
			case 1:
				d.Pixels[i] = 1
			}
		}
		x := robust.Batch{Data: d.Pixels, N: 3, C: 3, H: 6, W: 6}
		for _, p := range []robust.PGD{{Seed: seed}, {Epsilon: 0.05, Step: 0.2, Steps: 4, Seed: seed}, {Epsilon: 1, Steps: 2}} {
			adv, err := p.Perturb(context.Background(), m, x, d.Labels)
			if err != nil {
				t.Fatal(err)
			}
			eps := p.Epsilon
			if eps == 0 {
				eps = robust.DefaultEpsilon
			}
			checkBall(t, x.Data, adv.Data, eps)
		}
	}
}

// TestPGDIsIteratedFGSM checks that PGD without random start equals FGSM
// with ε = α applied Steps times, each followed by the projection onto
// the ε-ball. The images stay inside (0, 1), where both clip nowhere.
func TestPGDIsIteratedFGSM(t *testing.T) {
	m := randomLinear(3, 3, 4, 4, 6)
	d := randomData(m, 4, 0.2, 0.8, 7)
	x := robust.Batch{Data: d.Pixels, N: 4, C: 3, H: 4, W: 4}
	const eps, alpha, steps = 6.0 / 255, 2.0 / 255, 7
	got, err := robust.PGD{Epsilon: eps, Step: alpha, Steps: steps, NoRandomStart: true}.Perturb(context.Background(), m, x, d.Labels)
	if err != nil {
		t.Fatal(err)
	}
	adv := x
	for range steps {
		if adv, err = (robust.FGSM{Epsilon: alpha}).Perturb(context.Background(), m, adv, d.Labels); err != nil {
			t.Fatal(err)
		}
		for i, v := range x.Data {
			adv.Data[i] = clamp32(v+clamp32(adv.Data[i]-v, -eps, eps), 0, 1)
		}
	}
	if !equal32(got.Data, adv.Data) {
		t.Error("PGD without random start differs from iterated FGSM with projection")
	}
	one, err := robust.PGD{Epsilon: eps, Step: eps, Steps: 1, NoRandomStart: true}.Perturb(context.Background(), m, x, d.Labels)
	if err != nil {
		t.Fatal(err)
	}
	fgsm, err := robust.FGSM{Epsilon: eps}.Perturb(context.Background(), m, x, d.Labels)
	if err != nil {
		t.Fatal(err)
	}
	if !equal32(one.Data, fgsm.Data) {
		t.Error("one PGD step with α = ε and no random start differs from FGSM")
	}
}

func TestPGDDeterminism(t *testing.T) {
	m := randomLinear(3, 1, 5, 5, 8)
	d := randomData(m, 6, 0, 1, 9)
	x := robust.Batch{Data: d.Pixels, N: 6, C: 1, H: 5, W: 5}
	run := func(p robust.PGD) []byte {
		t.Helper()
		adv, err := p.Perturb(context.Background(), m, x, d.Labels)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		for _, v := range adv.Data {
			b := math.Float32bits(v)
			buf.Write([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24)})
		}
		return buf.Bytes()
	}
	a, b := run(robust.PGD{Seed: 42, Steps: 2}), run(robust.PGD{Seed: 42, Steps: 2})
	if !bytes.Equal(a, b) {
		t.Error("same seed, different bytes")
	}
	if c := run(robust.PGD{Seed: 43, Steps: 2}); bytes.Equal(a, c) {
		t.Error("seeds 42 and 43 gave the same bytes")
	}
	// Stream shifts the per-image streams: images 2.. of a batch with
	// Stream 0 equal images 0.. of the tail batch with Stream 2.
	tail := robust.Batch{Data: d.Pixels[2*25:], N: 4, C: 1, H: 5, W: 5}
	adv, err := robust.PGD{Seed: 42, Steps: 2, Stream: 2}.Perturb(context.Background(), m, tail, d.Labels[2:])
	if err != nil {
		t.Fatal(err)
	}
	full := run(robust.PGD{Seed: 42, Steps: 2})
	var buf bytes.Buffer
	for _, v := range adv.Data {
		u := math.Float32bits(v)
		buf.Write([]byte{byte(u), byte(u >> 8), byte(u >> 16), byte(u >> 24)})
	}
	if !bytes.Equal(full[2*25*4:], buf.Bytes()) {
		t.Error("PGD with Stream 2 on the tail differs from the full batch")
	}
}

func TestAttackErrors(t *testing.T) {
	m := randomLinear(3, 1, 2, 2, 1)
	x := robust.Batch{Data: make([]float32, 8), N: 2, C: 1, H: 2, W: 2}
	ctx := context.Background()
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"fgsm eps > 1", func() error { _, err := robust.FGSM{Epsilon: 1.5}.Perturb(ctx, m, x, []int{0, 1}); return err }, robust.ErrEpsilon},
		{"fgsm eps < 0", func() error { _, err := robust.FGSM{Epsilon: -0.1}.Perturb(ctx, m, x, []int{0, 1}); return err }, robust.ErrEpsilon},
		{"fgsm eps NaN", func() error { _, err := robust.FGSM{Epsilon: math.NaN()}.Perturb(ctx, m, x, []int{0, 1}); return err }, robust.ErrEpsilon},
		{"pgd step > 1", func() error { _, err := robust.PGD{Step: 2}.Perturb(ctx, m, x, []int{0, 1}); return err }, robust.ErrEpsilon},
		{"pgd steps < 0", func() error { _, err := robust.PGD{Steps: -1}.Perturb(ctx, m, x, []int{0, 1}); return err }, robust.ErrSteps},
		{"no labels", func() error { _, err := robust.FGSM{}.Perturb(ctx, m, x, nil); return err }, robust.ErrNoLabels},
		{"negative label", func() error { _, err := robust.PGD{}.Perturb(ctx, m, x, []int{0, -1}); return err }, robust.ErrNoLabels},
		{"empty batch", func() error { _, err := robust.FGSM{}.Perturb(ctx, m, robust.Batch{}, nil); return err }, robust.ErrEmpty},
		{"short data", func() error {
			_, err := robust.FGSM{}.Perturb(ctx, m, robust.Batch{Data: make([]float32, 3), N: 1, C: 1, H: 2, W: 2}, []int{0})
			return err
		}, robust.ErrShape},
		{"no path", func() error { _, err := robust.FGSM{}.Perturb(ctx, noPath{}, x, []int{0, 1}); return err }, robust.ErrNoGradients},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
}
