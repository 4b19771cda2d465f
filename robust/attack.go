package robust

import (
	"context"
	"fmt"
	"math/rand/v2"
)

// DefaultStep and DefaultSteps are torchattacks' PGD defaults: step size
// α = 2/255 in pixel units and 10 iterations.
const (
	DefaultStep  = 2.0 / 255
	DefaultSteps = 10
)

// FGSM is the fast gradient sign method (Goodfellow et al. 2015) in
// torchattacks' and foolbox's form, in pixel space:
//
//	untargeted: x_adv = clip(x + ε·sign(∇ₓ CE(f(x), y)), 0, 1)
//	targeted:   x_adv = clip(x − ε·sign(∇ₓ CE(f(x), t)), 0, 1)
//
// with sign(0) = 0 (torch.sign) and the arithmetic in float32, as torch
// does on float32 tensors: ε is rounded to float32 once, ε·sign is exact,
// and x + ε·sign is rounded once before clipping. Its zero value is the
// untargeted attack at ε = 8/255. An FGSM is a plain value.
type FGSM struct {
	// Epsilon is ε in pixel units, in (0, 1]; 0 means DefaultEpsilon.
	Epsilon float64
	// Targeted steps down the loss of the labels given to Perturb, which
	// are then the target classes.
	Targeted bool
}

// Perturb returns the adversarial batch of x (fresh Data; x is unchanged)
// with labels the true classes, or the target classes when a.Targeted. It
// calls m.LossGradient once. Errors wrap ErrEpsilon, ErrShape, ErrEmpty,
// ErrNoLabels, ErrClass, ErrGradient or the model's error.
func (a FGSM) Perturb(ctx context.Context, m GradientModel, x Batch, labels []int) (Batch, error) {
	eps, err := orDefault(a.Epsilon, DefaultEpsilon, "fgsm epsilon", ErrEpsilon)
	if err != nil {
		return Batch{}, err
	}
	if err := checkAttackInput("fgsm", x, labels); err != nil {
		return Batch{}, err
	}
	_, k, g, err := lossGradient(ctx, m, x, labels)
	if err != nil {
		return Batch{}, fmt.Errorf("fgsm: %w", err)
	}
	if err := checkClasses("fgsm", labels, k); err != nil {
		return Batch{}, err
	}
	adv := x
	adv.Data = make([]float32, len(x.Data))
	signStep(adv.Data, x.Data, g, float32(eps), a.Targeted)
	return adv, nil
}

// PGD is projected gradient descent under the L∞ norm (Madry et al.
// 2018) in torchattacks' form, in pixel space. Starting from
//
//	x⁰ = clip(x + u, 0, 1), u ~ U(−ε, ε) per pixel   (or x⁰ = x without random start)
//
// each of Steps iterations takes a sign step and projects:
//
//	x' = xᵗ + α·sign(∇ₓ CE(f(xᵗ), y))     (− for targeted attacks, with y the targets)
//	xᵗ⁺¹ = clip(x + clip(x' − x, −ε, ε), 0, 1)
//
// in float32 like torch (sign(0) = 0). There is no early exit: every
// sample takes all Steps steps. Without random start, one step with α = ε
// is FGSM.
//
// The random start of sample n of a batch draws its C·H·W uniforms in
// (c, y, x) order from rand.NewPCG(Seed, Stream+n), as
// float32((2u − 1)·ε) with u = Float64(), so the same seed gives the same
// bytes, and a dataset evaluated with Stream set to each batch's first
// index gives the same result at any batch size.
//
// The zero value is torchattacks' default PGD: ε = 8/255, α = 2/255, 10
// steps, random start, seed 0. A PGD is a plain value.
type PGD struct {
	// Epsilon is the radius ε of the L∞ ball in pixel units, in (0, 1];
	// 0 means DefaultEpsilon.
	Epsilon float64
	// Step is the step size α in pixel units, in (0, 1]; 0 means
	// DefaultStep.
	Step float64
	// Steps is the number of iterations; 0 means DefaultSteps, and a
	// negative value is an error.
	Steps int
	// NoRandomStart starts from x itself instead of a uniform point of the
	// ε-ball.
	NoRandomStart bool
	// Targeted steps down the loss of the labels given to Perturb, which
	// are then the target classes.
	Targeted bool
	// Seed and Stream seed the random start (see above).
	Seed, Stream uint64
}

// settings returns a's values with the defaults filled in.
func (a PGD) settings() (eps, step float64, steps int, err error) {
	if eps, err = orDefault(a.Epsilon, DefaultEpsilon, "pgd epsilon", ErrEpsilon); err != nil {
		return 0, 0, 0, err
	}
	if step, err = orDefault(a.Step, DefaultStep, "pgd step", ErrEpsilon); err != nil {
		return 0, 0, 0, err
	}
	switch {
	case a.Steps < 0:
		return 0, 0, 0, fmt.Errorf("pgd steps %d: %w", a.Steps, ErrSteps)
	case a.Steps == 0:
		steps = DefaultSteps
	default:
		steps = a.Steps
	}
	return eps, step, steps, nil
}

// Perturb returns the adversarial batch of x (fresh Data; x is unchanged)
// with labels the true classes, or the target classes when a.Targeted. It
// calls m.LossGradient Steps times. Errors wrap ErrEpsilon, ErrSteps,
// ErrShape, ErrEmpty, ErrNoLabels, ErrClass, ErrGradient or the model's
// error; ctx is checked between steps.
func (a PGD) Perturb(ctx context.Context, m GradientModel, x Batch, labels []int) (Batch, error) {
	eps, step, steps, err := a.settings()
	if err != nil {
		return Batch{}, err
	}
	if err := checkAttackInput("pgd", x, labels); err != nil {
		return Batch{}, err
	}
	adv := x
	adv.Data = make([]float32, len(x.Data))
	if a.NoRandomStart {
		copy(adv.Data, x.Data)
	} else {
		for n := range x.N {
			randomStart(adv.image(n), x.image(n), eps, rand.NewPCG(a.Seed, a.Stream+uint64(n)))
		}
	}
	e32, s32 := float32(eps), float32(step)
	for t := range steps {
		if err := ctx.Err(); err != nil {
			return Batch{}, fmt.Errorf("pgd step %d: %w", t, err)
		}
		_, k, g, err := lossGradient(ctx, m, adv, labels)
		if err != nil {
			return Batch{}, fmt.Errorf("pgd step %d: %w", t, err)
		}
		if t == 0 {
			if err := checkClasses("pgd", labels, k); err != nil {
				return Batch{}, err
			}
		}
		projectStep(adv.Data, x.Data, g, s32, e32, a.Targeted)
	}
	return adv, nil
}

// randomStart writes clip(x + U(−ε, ε), 0, 1) into dst.
func randomStart(dst, x []float32, eps float64, src rand.Source) {
	r := rand.New(src)
	for i, v := range x {
		u := float32((2*r.Float64() - 1) * eps)
		dst[i] = clip01(v + u)
	}
}

// sign is torch.sign for finite values: −1, 0 or 1.
func sign(v float32) float32 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func clip01(v float32) float32 { return min(max(v, 0), 1) }

// signStep writes clip(x ± e·sign(g), 0, 1) into dst (− when down).
func signStep(dst, x, g []float32, e float32, down bool) {
	if down {
		e = -e
	}
	g = g[:len(x)]
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = clip01(v + e*sign(g[i]))
	}
}

// projectStep advances adv by one PGD step in place: adv' = adv ±
// α·sign(g), then clip(x + clip(adv' − x, −ε, ε), 0, 1).
func projectStep(adv, x, g []float32, step, eps float32, down bool) {
	if down {
		step = -step
	}
	g = g[:len(x)]
	adv = adv[:len(x)]
	for i, v := range x {
		d := adv[i] + step*sign(g[i]) - v
		d = min(max(d, -eps), eps)
		adv[i] = clip01(v + d)
	}
}

// orDefault returns def for 0, v for v in (0, 1], and an error wrapping
// sentinel otherwise.
func orDefault(v, def float64, what string, sentinel error) (float64, error) {
	if v == 0 {
		return def, nil
	}
	if !validUnit(v) {
		return 0, fmt.Errorf("%s %v: %w", what, v, sentinel)
	}
	return v, nil
}

func checkAttackInput(op string, x Batch, labels []int) error {
	if err := x.check(op); err != nil {
		return err
	}
	if len(labels) != x.N {
		return fmt.Errorf("%s: %d labels for %d images: %w", op, len(labels), x.N, ErrNoLabels)
	}
	for i, l := range labels {
		if l < 0 {
			return fmt.Errorf("%s: image %d has no label: %w", op, i, ErrNoLabels)
		}
	}
	return nil
}

func checkClasses(op string, labels []int, k int) error {
	for i, l := range labels {
		if l >= k {
			return fmt.Errorf("%s: label %d of image %d with %d classes: %w", op, l, i, k, ErrClass)
		}
	}
	return nil
}
