package cam

import (
	"context"
	"fmt"
	"math"
	"sort"
)

// DefaultFaithSteps is the number of deletion and insertion steps when
// Faithfulness.Steps is 0.
const DefaultFaithSteps = 32

// Faithfulness configures the causal faithfulness measures of a saliency
// map: deletion and insertion (Petsiuk et al., "RISE: Randomized Input
// Sampling for Explanation of Black-box Models", BMVC 2018) and average
// drop and increase in confidence (Chattopadhyay et al., "Grad-CAM++",
// WACV 2018). All of them read the softmax probability of the explained
// class. The zero value works: DefaultFaithSteps steps, a zero baseline
// and the baseline as the insertion start. A Faithfulness is a plain
// value; Score only reads it.
//
// Deletion removes pixels, most salient first, by replacing all their
// channels with Baseline, ⌈H·W/Steps⌉ pixels per step, and records the
// probability p_0 … p_S after each of the S steps (p_0 on the intact
// image). Insertion starts from Start and puts the original pixels back
// in the same order. Each curve's area is the trapezoid rule on an x axis
// of [0, 1], RISE's auc(): (Σ p_i − (p_0 + p_S)/2) / S. A faithful map has
// a low deletion and a high insertion area.
//
// Average drop is max(0, Y − O)/Y for each image, and increase in
// confidence is whether O > Y, where Y is the probability on the image
// and O on the image masked by the map, Baseline + m·(x − Baseline) with
// m the min-max normalised map (Grad-CAM++'s E_c ∘ I with a black image
// when Baseline is the tensor of black pixels). Callers average them over
// a data set and report them in percent.
type Faithfulness struct {
	// Steps is the number of deletion and insertion steps; 0 means
	// DefaultFaithSteps. It is capped at H·W.
	Steps int
	// Baseline is the C×H×W tensor that removed pixels take, in the
	// model's input space; nil means zeros. Pass the tensor of a black
	// image for RISE's deletion when the model normalises its input.
	Baseline []float32
	// Start is the C×H×W tensor insertion starts from for every image;
	// nil means Baseline. RISE starts from a blurred copy of each image:
	// pass it through StartOf.
	Start []float32
	// StartOf, if non-nil, returns image n's insertion start (C×H×W) and
	// takes precedence over Start.
	StartOf func(n int) []float32
	// Layer is passed to Model.Forward; the empty string lets the model
	// choose.
	Layer string
}

// FaithScore holds the faithfulness measures of one image.
// It is plain data.
type FaithScore struct {
	// Class is the explained class and Prob its probability on the image
	// (Y); Masked is its probability on the map-masked image (O).
	Class  int     `json:"class"`
	Prob   float64 `json:"prob"`
	Masked float64 `json:"masked"`
	// Deletion and Insertion are the areas under the curves.
	Deletion  float64 `json:"deletion_auc"`
	Insertion float64 `json:"insertion_auc"`
	// Drop is max(0, Y − O)/Y (0 when Y is 0) and Increase is O > Y.
	Drop     float64 `json:"drop"`
	Increase bool    `json:"increase"`
	// DeletionCurve and InsertionCurve are p_0 … p_S.
	DeletionCurve  []float64 `json:"deletion_curve"`
	InsertionCurve []float64 `json:"insertion_curve"`
}

// Score measures each image n of b with its map maps[n], of size b.W×b.H
// (resize it first, e.g. with Scoremap), explaining class classes[n].
// It calls m.Forward with batches of at most Steps+1 images. b, maps and
// the tensors of f are unchanged. Errors wrap ErrShape or the model's
// error.
func (f Faithfulness) Score(ctx context.Context, m Model, b Batch, maps []Map, classes []int) ([]FaithScore, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	if len(maps) != b.N || len(classes) != b.N {
		return nil, fmt.Errorf("%w: %d maps and %d classes for %d images", ErrShape, len(maps), len(classes), b.N)
	}
	size := b.C * b.H * b.W
	if (f.Baseline != nil && len(f.Baseline) != size) || (f.Start != nil && len(f.Start) != size) {
		return nil, fmt.Errorf("%w: baseline or start of %d, %d values for images of %d", ErrShape, len(f.Baseline), len(f.Start), size)
	}
	base := f.Baseline
	if base == nil {
		base = make([]float32, size)
	}
	steps := f.Steps
	if steps <= 0 {
		steps = DefaultFaithSteps
	}
	plane := b.H * b.W
	steps = min(steps, plane)
	per := (plane + steps - 1) / steps
	out := make([]FaithScore, b.N)
	for n := range b.N {
		mp := maps[n]
		if mp.W != b.W || mp.H != b.H || len(mp.V) != plane {
			return nil, fmt.Errorf("%w: map %d×%d for an image of %d×%d", ErrShape, mp.W, mp.H, b.W, b.H)
		}
		x := b.image(n)
		start := f.Start
		if f.StartOf != nil {
			start = f.StartOf(n)
			if len(start) != size {
				return nil, fmt.Errorf("%w: insertion start of %d values for images of %d", ErrShape, len(start), size)
			}
		}
		if start == nil {
			start = base
		}
		order := saliencyOrder(mp)
		// Deletion: image → baseline; insertion: start → image.
		del := curveBatch(x, base, order, per, steps, b.C, plane)
		ins := curveBatch(start, x, order, per, steps, b.C, plane)
		norm := mp.Normalized()
		masked := make([]float32, size)
		for c := range b.C {
			for i := range plane {
				j := c*plane + i
				masked[j] = base[j] + float32(norm.V[i])*(x[j]-base[j])
			}
		}
		cls := classes[n]
		dp, err := probs(ctx, m, f.Layer, del, steps+1, b, cls)
		if err != nil {
			return nil, err
		}
		ip, err := probs(ctx, m, f.Layer, ins, steps+1, b, cls)
		if err != nil {
			return nil, err
		}
		mk, err := probs(ctx, m, f.Layer, masked, 1, b, cls)
		if err != nil {
			return nil, err
		}
		s := FaithScore{Class: cls, Prob: dp[0], Masked: mk[0], DeletionCurve: dp, InsertionCurve: ip,
			Deletion: AUC(dp), Insertion: AUC(ip), Increase: mk[0] > dp[0]}
		if s.Prob > 0 {
			s.Drop = max(0, s.Prob-s.Masked) / s.Prob
		}
		out[n] = s
	}
	return out, nil
}

// AUC returns RISE's area under a curve sampled at S+1 evenly spaced
// points of [0, 1]: (Σ p_i − (p_0 + p_S)/2) / S, the trapezoid rule. It
// returns p_0 for a single point and 0 for none.
func AUC(p []float64) float64 {
	switch len(p) {
	case 0:
		return 0
	case 1:
		return p[0]
	}
	var s float64
	for _, v := range p {
		s += v
	}
	s -= (p[0] + p[len(p)-1]) / 2
	return s / float64(len(p)-1)
}

// saliencyOrder returns the pixel indices by decreasing map value, ties by
// increasing index; NaN counts as −∞.
func saliencyOrder(m Map) []int {
	order := make([]int, len(m.V))
	for i := range order {
		order[i] = i
	}
	val := func(i int) float64 {
		if v := m.V[i]; !math.IsNaN(v) {
			return v
		}
		return math.Inf(-1)
	}
	sort.SliceStable(order, func(a, b int) bool { return val(order[a]) > val(order[b]) })
	return order
}

// curveBatch returns steps+1 images: image k is from with the first
// min(k·per, plane) pixels of order taken from to.
func curveBatch(from, to []float32, order []int, per, steps, channels, plane int) []float32 {
	size := len(from)
	out := make([]float32, (steps+1)*size)
	cur := append([]float32(nil), from...)
	copy(out, cur)
	for k := 1; k <= steps; k++ {
		for _, p := range order[min((k-1)*per, plane):min(k*per, plane)] {
			for c := range channels {
				cur[c*plane+p] = to[c*plane+p]
			}
		}
		copy(out[k*size:], cur)
	}
	return out
}

// probs runs n images of b's shape and returns the softmax probability of
// class cls for each.
func probs(ctx context.Context, m Model, layer string, data []float32, n int, b Batch, cls int) ([]float64, error) {
	a, err := forward(ctx, m, Batch{Data: data, N: n, C: b.C, H: b.H, W: b.W}, layer, false)
	if err != nil {
		return nil, err
	}
	if cls < 0 || cls >= a.K {
		return nil, fmt.Errorf("%w: class %d of %d", ErrShape, cls, a.K)
	}
	out := make([]float64, n)
	for i := range n {
		out[i] = softmaxAt(a.logits(i), cls)
	}
	return out, nil
}

// softmaxAt returns softmax(row)[k], computed stably in float64.
func softmaxAt(row []float32, k int) float64 {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = max(mx, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - mx)
	}
	return math.Exp(float64(row[k])-mx) / s
}
