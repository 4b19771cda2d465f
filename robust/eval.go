package robust

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// DefaultBatchSize is the batch size when Config.BatchSize is 0.
const DefaultBatchSize = 32

// Streams of rand.NewPCG(Config.Seed, stream): PGD's random start of image
// i uses stream i, random targets 1<<62 | i, in-between pair i 1<<63 | i.
const (
	streamTargets = 1 << 62
	streamPairs   = 1 << 63
)

// Config configures the evaluations. Its zero value runs the CutMix
// paper's protocol (Evaluate: FGSM at ε = 8/255, centre and boundary
// occlusion with black fill, Mixup and CutMix in-between probes) with
// batches of 32 and seed 0. The evaluations copy it; Progress is called
// from the calling goroutine.
type Config struct {
	// BatchSize is the number of images (or pairs) per model call;
	// 0 means DefaultBatchSize.
	BatchSize int
	// Seed seeds PGD's random start, random targets and in-between pairs
	// (see the streams in the package doc); it is recorded.
	Seed uint64
	// Target selects untargeted or targeted FGSM and PGD.
	Target Target
	// Epsilons lists FGSM's ε values in pixel units, each in (0, 1] (see
	// ParseEpsilons); nil means {DefaultEpsilon}.
	Epsilons []float64
	// PGD holds PGD's settings; its Targeted, Seed and Stream are ignored
	// (Target and Seed above apply, and image i uses stream i).
	PGD PGD
	// Occlusion and Between hold the other evaluations' settings.
	Occlusion Occlusion
	Between   Between
	// Stages selects what Evaluate runs, in order; nil means StageFGSM,
	// StageOcclusion, StageBetween.
	Stages []Stage
	// Progress, if non-nil, is called after each batch with the images
	// (pairs for StageBetween) done and the total of the stage.
	Progress func(stage Stage, done, total int)
}

func (c *Config) progress(s Stage, done, total int) {
	if c.Progress != nil {
		c.Progress(s, done, total)
	}
}

// gradientModel returns m as a GradientModel or an error wrapping
// ErrNoGradients.
func gradientModel(op string, m Model) (GradientModel, error) {
	g, ok := m.(GradientModel)
	if !ok {
		return nil, fmt.Errorf("%s: model %T has no LossGradient: %w", op, m, ErrNoGradients)
	}
	return g, nil
}

// targets returns the classes the attack aims at for a batch starting at
// dataset index first.
func (c *Config) targets(op string, first int, labels []int, clean []float32, k int) ([]int, error) {
	switch c.Target {
	case Untargeted:
		return labels, nil
	case TargetRandom, TargetLeastLikely:
	default:
		return nil, fmt.Errorf("%s target %d: %w", op, int(c.Target), ErrOption)
	}
	if k < 2 {
		return nil, fmt.Errorf("%s %v attack on %d classes: %w", op, c.Target, k, ErrClasses)
	}
	t := make([]int, len(labels))
	for j, l := range labels {
		if c.Target == TargetLeastLikely {
			t[j] = argmin(clean[j*k : (j+1)*k])
			continue
		}
		r := rand.New(rand.NewPCG(c.Seed, streamTargets|uint64(first+j)))
		t[j] = r.IntN(k - 1)
		if t[j] >= l {
			t[j]++
		}
	}
	return t, nil
}

// attackTally accumulates an AttackResult.
type attackTally struct {
	res     *AttackResult
	eps     []float64
	cleanOK []bool
}

func (t *attackTally) clean(clean []float32, k int, labels []int) {
	t.cleanOK = t.cleanOK[:0]
	for j, l := range labels {
		ok := argmax(clean[j*k:(j+1)*k]) == l
		t.cleanOK = append(t.cleanOK, ok)
		t.res.Images++
		if ok {
			t.res.CleanCorrect++
		}
	}
}

func (t *attackTally) adv(p *AttackPoint, x, adv Batch, logits []float32, k int, labels, targets []int, targeted bool) {
	for j, l := range labels {
		pred := argmax(logits[j*k : (j+1)*k])
		if pred == l {
			p.Correct++
		}
		if t.cleanOK[j] && pred != l {
			p.Successes++
		}
		if targeted && t.cleanOK[j] && pred == targets[j] {
			p.TargetHits++
		}
	}
	for i, v := range x.Data {
		p.MaxLinf = max(p.MaxLinf, math.Abs(float64(adv.Data[i])-float64(v)))
	}
}

func (t *attackTally) finish() {
	r := t.res
	r.CleanAccuracy = rate(r.CleanCorrect, r.Images)
	for i := range r.Points {
		p := &r.Points[i]
		p.Accuracy = rate(p.Correct, r.Images)
		p.SuccessRate = rate(p.Successes, r.CleanCorrect)
		p.TargetRate = rate(p.TargetHits, r.CleanCorrect)
	}
}

func newAttackResult(attack string, c *Config, eps []float64) *AttackResult {
	r := &AttackResult{
		Attack: attack,
		Target: c.Target.String(),
		Space:  Space,
		Loss:   Loss,
		Clip:   "[0,1] after every step",
		Seed:   c.Seed,
		Points: make([]AttackPoint, len(eps)),
	}
	for i, e := range eps {
		r.Points[i].Epsilon = e
		r.Points[i].Epsilon255 = e * 255
	}
	return r
}

// EvalFGSM attacks every image of d with FGSM at each ε of c.Epsilons and
// reports clean and adversarial top-1 accuracy and the attack success
// rate. One gradient per image serves every ε; each ε costs one forward
// pass, plus one clean forward pass for targeted attacks. The error wraps
// ErrNoGradients when m is not a GradientModel or its LossGradient fails
// for want of one; ErrEpsilon for a bad ε; ErrEmpty, ErrNoLabels,
// ErrPixel, ErrClass, ErrShape for bad data or model answers.
func EvalFGSM(ctx context.Context, m Model, d Dataset, c Config) (*AttackResult, error) {
	gm, err := gradientModel("fgsm", m)
	if err != nil {
		return nil, err
	}
	eps := c.Epsilons
	if len(eps) == 0 {
		eps = []float64{DefaultEpsilon}
	}
	for _, e := range eps {
		if !validUnit(e) {
			return nil, fmt.Errorf("fgsm epsilon %v: %w", e, ErrEpsilon)
		}
	}
	l, err := newLoader("fgsm", d, c.BatchSize)
	if err != nil {
		return nil, err
	}
	t := &attackTally{res: newAttackResult("fgsm", &c, eps), eps: eps}
	t.res.Steps = 1
	targeted := c.Target != Untargeted
	advBuf := make([]float32, len(l.buf))
	err = l.each(ctx, func(first int, b Batch, labels []int) error {
		var clean []float32
		var k int
		targets := labels
		if targeted {
			if clean, k, err = logits(ctx, m, b); err != nil {
				return fmt.Errorf("fgsm images %d-%d: %w", first, first+b.N-1, err)
			}
			if err := checkClasses("fgsm", labels, k); err != nil {
				return err
			}
			if targets, err = c.targets("fgsm", first, labels, clean, k); err != nil {
				return err
			}
		}
		lg, kg, g, err := lossGradient(ctx, gm, b, targets)
		if err != nil {
			return fmt.Errorf("fgsm images %d-%d: %w", first, first+b.N-1, err)
		}
		if clean == nil {
			clean, k = lg, kg
		}
		if err := checkClasses("fgsm", labels, k); err != nil {
			return err
		}
		t.clean(clean, k, labels)
		adv := b
		adv.Data = advBuf[:len(b.Data)]
		for i, e := range eps {
			signStep(adv.Data, b.Data, g, float32(e), targeted)
			al, ka, err := logits(ctx, m, adv)
			if err == nil && ka != k {
				err = fmt.Errorf("%d classes after the attack, %d before: %w", ka, k, ErrShape)
			}
			if err != nil {
				return fmt.Errorf("fgsm epsilon %v images %d-%d: %w", e, first, first+b.N-1, err)
			}
			t.adv(&t.res.Points[i], b, adv, al, k, labels, targets, targeted)
		}
		c.progress(StageFGSM, first+b.N, l.n)
		return nil
	})
	if err != nil {
		return nil, err
	}
	t.finish()
	return t.res, nil
}

// EvalPGD attacks every image of d with c.PGD (image i's random start from
// stream i of c.Seed) and reports clean and adversarial top-1 accuracy and
// the attack success rate at its ε. Each image costs one clean forward
// pass, Steps gradients and one forward pass. Errors are those of
// EvalFGSM, plus ErrSteps.
func EvalPGD(ctx context.Context, m Model, d Dataset, c Config) (*AttackResult, error) {
	gm, err := gradientModel("pgd", m)
	if err != nil {
		return nil, err
	}
	a := c.PGD
	eps, step, steps, err := a.settings()
	if err != nil {
		return nil, err
	}
	a.Epsilon, a.Step, a.Steps = eps, step, steps
	a.Seed = c.Seed
	a.Targeted = c.Target != Untargeted
	l, err := newLoader("pgd", d, c.BatchSize)
	if err != nil {
		return nil, err
	}
	t := &attackTally{res: newAttackResult("pgd", &c, []float64{eps}), eps: []float64{eps}}
	t.res.Step, t.res.Steps, t.res.RandomStart = step, steps, !a.NoRandomStart
	err = l.each(ctx, func(first int, b Batch, labels []int) error {
		clean, k, err := logits(ctx, m, b)
		if err != nil {
			return fmt.Errorf("pgd images %d-%d: %w", first, first+b.N-1, err)
		}
		if err := checkClasses("pgd", labels, k); err != nil {
			return err
		}
		targets, err := c.targets("pgd", first, labels, clean, k)
		if err != nil {
			return err
		}
		t.clean(clean, k, labels)
		a.Stream = uint64(first)
		adv, err := a.Perturb(ctx, gm, b, targets)
		if err != nil {
			return fmt.Errorf("images %d-%d: %w", first, first+b.N-1, err)
		}
		al, ka, err := logits(ctx, m, adv)
		if err == nil && ka != k {
			err = fmt.Errorf("%d classes after the attack, %d before: %w", ka, k, ErrShape)
		}
		if err != nil {
			return fmt.Errorf("pgd images %d-%d: %w", first, first+b.N-1, err)
		}
		t.adv(&t.res.Points[0], b, adv, al, k, labels, targets, a.Targeted)
		c.progress(StagePGD, first+b.N, l.n)
		return nil
	})
	if err != nil {
		return nil, err
	}
	t.finish()
	return t.res, nil
}

// Evaluate runs c.Stages (by default FGSM, occlusion and the in-between
// probes) on m and d and collects them in one Report. When an attack
// stage fails with ErrNoGradients, Evaluate records it in Report.Skipped,
// runs the remaining stages, and returns the report with an error wrapping
// ErrNoGradients; on any other error it returns a nil report.
func Evaluate(ctx context.Context, m Model, d Dataset, c Config) (*Report, error) {
	_, ch, h, w, err := checkData("evaluate", d)
	if err != nil {
		return nil, err
	}
	bs := c.BatchSize
	if bs <= 0 {
		bs = DefaultBatchSize
	}
	r := &Report{
		SchemaVersion: SchemaVersion,
		Seed:          c.Seed,
		Space:         Space,
		Normalization: Normalization,
		BatchSize:     bs,
		Images:        d.Len(),
		Channels:      ch,
		Height:        h,
		Width:         w,
	}
	stages := c.Stages
	if stages == nil {
		stages = []Stage{StageFGSM, StageOcclusion, StageBetween}
	}
	var skipped []error
	for _, s := range stages {
		var err error
		switch s {
		case StageFGSM:
			r.FGSM, err = EvalFGSM(ctx, m, d, c)
		case StagePGD:
			r.PGD, err = EvalPGD(ctx, m, d, c)
		case StageOcclusion:
			r.Occlusion, err = EvalOcclusion(ctx, m, d, c)
		case StageBetween:
			r.Between, err = EvalBetween(ctx, m, d, c)
		default:
			err = fmt.Errorf("evaluate stage %d: %w", int(s), ErrOption)
		}
		if err != nil {
			if (s == StageFGSM || s == StagePGD) && errors.Is(err, ErrNoGradients) {
				r.Skipped = append(r.Skipped, SkippedStage{Stage: s.String(), Reason: err.Error()})
				skipped = append(skipped, err)
				continue
			}
			return nil, err
		}
	}
	if len(skipped) > 0 {
		return r, errors.Join(skipped...)
	}
	return r, nil
}
