package robust

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/cutmixcam/cutmix-cam/cutmix"
)

// Between configures EvalBetween. Its zero value evaluates Mixup and
// CutMix probes on len(data) pairs over a 15-point grid. It is a plain
// value.
type Between struct {
	// Mixes lists the probes; nil means Mixup and CutMix.
	Mixes []Mix
	// Steps is the number of grid intervals K; 0 means DefaultGridSteps.
	// Mixup uses λ = k/K; CutMix the hole Hole(W, H, k, K) with
	// λ = 1 − area/(W·H), k = K..0 so that λ ascends.
	Steps int
	// Pairs is the number of pairs; 0 means the dataset size (the paper
	// drew 50,000 pairs from the 50,000 ImageNet validation images).
	Pairs int
}

// Pair returns pair i of a dataset with the given labels: image A is
// i mod len(labels), and image B is drawn uniformly among the images of a
// class other than A's, from rand.NewPCG(seed, 1<<63 | i). It returns
// ErrClasses when every image has A's class.
func Pair(labels []int, seed uint64, i int) (a, b int, err error) {
	p, err := newPairer(labels)
	if err != nil {
		return 0, 0, err
	}
	a, b = p.pair(seed, i)
	return a, b, nil
}

// pairer draws partners in O(1): order lists the image indices grouped by
// class, start and count locate each class's group.
type pairer struct {
	labels []int
	order  []int
	start  map[int]int
	count  map[int]int
}

func newPairer(labels []int) (*pairer, error) {
	p := &pairer{labels: labels, start: map[int]int{}, count: map[int]int{}}
	for _, l := range labels {
		p.count[l]++
	}
	if len(p.count) < 2 {
		return nil, fmt.Errorf("in-between pairs from %d images of %d class(es): %w", len(labels), len(p.count), ErrClasses)
	}
	classes := make([]int, 0, len(p.count))
	for l := range p.count {
		classes = append(classes, l)
	}
	slices.Sort(classes)
	at := 0
	for _, l := range classes {
		p.start[l] = at
		at += p.count[l]
	}
	p.order = make([]int, len(labels))
	next := make(map[int]int, len(classes))
	for i, l := range labels {
		p.order[p.start[l]+next[l]] = i
		next[l]++
	}
	return p, nil
}

func (p *pairer) pair(seed uint64, i int) (a, b int) {
	a = i % len(p.labels)
	l := p.labels[a]
	r := rand.New(rand.NewPCG(seed, streamPairs|uint64(i)))
	j := r.IntN(len(p.labels) - p.count[l])
	if j >= p.start[l] {
		j += p.count[l]
	}
	return a, p.order[j]
}

// EvalBetween measures how often m predicts neither source class on
// in-between-class images (paper Fig. 5b): Mixup blends λ·x_A + (1−λ)·x_B
// and CutMix images with x_B in a centred hole of x_A, mixed by
// cutmix.ApplyPair, for pairs drawn by Pair from c.Seed. Each grid point
// and mix costs one forward pass per pair; only Logits is used. Errors
// wrap ErrEmpty, ErrNoLabels, ErrClasses, ErrPixel, ErrClass, ErrShape or
// ErrOption.
func EvalBetween(ctx context.Context, m Model, d Dataset, c Config) (*BetweenResult, error) {
	bt := c.Between
	mixes := bt.Mixes
	if mixes == nil {
		mixes = []Mix{Mixup, CutMix}
	}
	for _, mx := range mixes {
		if mx != Mixup && mx != CutMix {
			return nil, fmt.Errorf("between mix %d: %w", int(mx), ErrOption)
		}
	}
	steps := bt.Steps
	switch {
	case steps < 0:
		return nil, fmt.Errorf("between steps %d: %w", steps, ErrSteps)
	case steps == 0:
		steps = DefaultGridSteps
	}
	if bt.Pairs < 0 {
		return nil, fmt.Errorf("between pairs %d: %w", bt.Pairs, ErrOption)
	}
	la, err := newLoader("between", d, c.BatchSize)
	if err != nil {
		return nil, err
	}
	lb, _ := newLoader("between", d, c.BatchSize)
	labels := make([]int, la.n)
	for i := range labels {
		labels[i] = d.Label(i)
	}
	pr, err := newPairer(labels)
	if err != nil {
		return nil, err
	}
	pairs := bt.Pairs
	if pairs == 0 {
		pairs = la.n
	}
	res := &BetweenResult{
		Space: Space,
		Seed:  c.Seed,
		Pairs: pairs,
		Steps: steps,
		Error: "prediction in neither source class",
	}
	type gridPoint struct {
		draw cutmix.Draw
		pt   BetweenPoint
	}
	grids := make([][]gridPoint, len(mixes))
	for i, mx := range mixes {
		res.Curves = append(res.Curves, BetweenCurve{Mix: mx.String()})
		for k := 0; k <= steps; k++ {
			var g gridPoint
			switch mx {
			case Mixup:
				lam := float64(k) / float64(steps)
				g.draw = cutmix.Draw{Method: cutmix.Mixup, Applied: true, Lambda: lam, Raw: lam, Weight: lam}
				g.pt = BetweenPoint{K: k, Lambda: lam}
			case CutMix:
				kk := steps - k
				hole := Hole(la.w, la.h, kk, steps)
				lam := 1 - float64(hole.Dx()*hole.Dy())/float64(la.w*la.h)
				g.draw = cutmix.Draw{Method: cutmix.CutMix, Applied: true, Box: hole, Lambda: lam, Raw: lam, Weight: lam}
				g.pt = BetweenPoint{K: kk, Lambda: lam, HoleWidth: hole.Dx(), HoleHeight: hole.Dy()}
			}
			grids[i] = append(grids[i], g)
		}
	}
	bs := la.size
	mixed := make([]float32, len(la.buf))
	draws := make([]cutmix.Draw, bs)
	ia, ib := make([]int, 0, bs), make([]int, 0, bs)
	for first := 0; first < pairs; first += bs {
		ia, ib = ia[:0], ib[:0]
		for i := first; i < min(first+bs, pairs); i++ {
			a, b := pr.pair(c.Seed, i)
			ia, ib = append(ia, a), append(ib, b)
		}
		xa, labA, err := la.load(ctx, ia)
		if err != nil {
			return nil, err
		}
		xb, labB, err := lb.load(ctx, ib)
		if err != nil {
			return nil, err
		}
		n := len(ia)
		shape := cutmix.Shape{N: n, C: la.c, H: la.h, W: la.w}
		x := Batch{Data: mixed[:len(xa.Data)], N: n, C: la.c, H: la.h, W: la.w}
		for i, mx := range mixes {
			for k := range grids[i] {
				g := &grids[i][k]
				for j := range n {
					draws[j] = g.draw
				}
				if err := cutmix.ApplyPair(x.Data, xa.Data, xb.Data, shape, shape, draws[:n]); err != nil {
					return nil, fmt.Errorf("between %v: %w", mx, err)
				}
				lg, kk, err := logits(ctx, m, x)
				if err != nil {
					return nil, fmt.Errorf("between %v k=%d pairs %d-%d: %w", mx, g.pt.K, first, first+n-1, err)
				}
				if err := checkClasses("between", labA, kk); err != nil {
					return nil, err
				}
				if err := checkClasses("between", labB, kk); err != nil {
					return nil, err
				}
				for j := range n {
					switch argmax(lg[j*kk : (j+1)*kk]) {
					case labA[j]:
						g.pt.PredA++
					case labB[j]:
						g.pt.PredB++
					default:
						g.pt.Neither++
					}
				}
			}
		}
		c.progress(StageBetween, first+n, pairs)
	}
	for i := range mixes {
		for _, g := range grids[i] {
			g.pt.Error = rate(g.pt.Neither, pairs)
			res.Curves[i].Points = append(res.Curves[i].Points, g.pt)
		}
	}
	return res, nil
}
