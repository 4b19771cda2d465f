package cutmix

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// Sampler draws mixing decisions: the method, λ, the box and the partner.
// Its zero value is the official CutMix recipe with α = 1, seeded with 0.
// Every field's zero value is a documented default, so flags can bind
// straight to the fields.
//
// A Sampler is not safe for concurrent use: its Src advances on every draw.
// Use one Sampler (and one Src) per goroutine.
type Sampler struct {
	// Src is the only source of randomness. Nil is replaced by
	// rand.NewPCG(0, 0) on first use.
	Src rand.Source

	// Method is the base method. Default CutMix.
	Method Method
	// Alpha is the Beta(α, α) parameter of λ for Method: the box size for
	// CutMix and Cutout, the blend weight for Mixup. 0 means 1.0 (the
	// paper's and README's value); negative, NaN or infinite values give
	// ErrAlpha.
	Alpha float64
	// MixupAlpha is the Beta parameter of the Mixup draws that SwitchProb
	// substitutes for CutMix draws (timm mixup_alpha; Alpha is then timm's
	// cutmix_alpha). 0 means the same as Alpha.
	MixupAlpha float64
	// SwitchProb is the probability that a CutMix draw is replaced by a
	// Mixup draw (timm switch_prob). 0 means never. Note timm's switch_prob
	// is the probability of CutMix, i.e. 1 − SwitchProb; at timm's default
	// 0.5 the two agree.
	SwitchProb float64
	// Prob is the probability that a draw mixes at all (official
	// cutmix_prob, timm prob). 0 means 1.0. A draw that does not mix has
	// Applied false and λ = 1.
	Prob float64
	// Scheduled turns on scheduled CutMix (paper Table 8): the application
	// probability becomes Prob·Progress, rising linearly with training.
	Scheduled bool
	// Progress is the fraction of training done, in [0, 1]; used only when
	// Scheduled is set. The caller updates it between draws.
	Progress float64

	// Center is the box-centre distribution. Default CenterUniform.
	// Fixed and MinMax boxes ignore it.
	Center Center
	// Sigma is the standard deviation of CenterGaussian centres as a
	// fraction of the image side: a centre is floor(dim/2 + Sigma·dim·z),
	// z standard normal, clamped to [0, dim). 0 means 0.25 (the paper does
	// not give its σ).
	Sigma float64
	// Fixed, when non-zero, fixes the box size in pixels (paper "Fixed-size
	// CutMix", 16×16 on 32×32 CIFAR images). The box lies wholly inside the
	// image with its top-left corner uniform over the valid positions, so λ
	// is exactly 1 − Fixed.X·Fixed.Y/(W·H); α is unused. A box larger than
	// the image gives ErrBoxTooLarge.
	Fixed image.Point
	// MinMax, when MinMax[1] > 0, switches to timm's cutmix_minmax box:
	// independent side fractions in [MinMax[0], MinMax[1]], the box kept
	// inside the image, aspect not preserved, λ always corrected and α
	// unused (timm forces cutmix_alpha = 1 and discards its draw).
	MinMax [2]float64
	// InclusiveOrigin draws the MinMax box origin from [0, dim − cut]
	// inclusive (upstream timm PR #2739). By default it matches the timm
	// snapshot in REFERENCE.md B.2: the origin is drawn from [0, dim − cut)
	// and the last valid origin is never used.
	InclusiveOrigin bool
	// RawLambda reports the drawn λ instead of the area-corrected one
	// (timm correct_lam=False). The official code and torchvision always
	// correct; so does MinMax and Fixed whatever this field says.
	RawLambda bool

	// Label is the label weight rule. Default LabelArea. Label smoothing
	// (timm label_smoothing) is the smoothing argument of Labels.
	Label Label

	// Mode is the batch draw mode for Plan. Default ModeBatch.
	Mode Mode
	// Partner is the batch partner rule for Plan. Default PartnerPermutation.
	Partner Partner

	// Fill is what Cutout writes into its box. Default FillZero.
	Fill Fill
	// Fit is how Sampler.Mix brings a partner image to the target's size.
	// Default FitStretch.
	Fit Fit
}

// Draw is one sampled mixing decision for one target image. Pixels outside
// Box come from the target, pixels inside from the partner (CutMix) or the
// fill (Cutout). A Draw is a plain value, safe to copy and share.
type Draw struct {
	// Method is the method drawn (Mixup when SwitchProb switched).
	Method Method
	// Applied is false when the draw does not mix (probability Prob);
	// the image is then copied unchanged.
	Applied bool
	// Partner is the batch index of the partner (Plan only; 0 otherwise).
	Partner int
	// Box is the pasted (CutMix) or filled (Cutout) region in target pixel
	// coordinates, half-open, always inside the image; empty for Mixup and
	// when not applied.
	Box image.Rectangle
	// Lambda is the fraction of the result that comes from the target: for
	// CutMix and Cutout 1 − Box area/(W·H) (unless RawLambda), for Mixup the
	// blend weight, and 1 when not applied.
	Lambda float64
	// Raw is λ as drawn from Beta(α, α), before correction; for Fixed and
	// MinMax boxes it equals Lambda.
	Raw float64
	// Weight is the label weight of the target class, by the Label rule
	// (1 for Cutout and when not applied).
	Weight float64
	// Fill is the Cutout fill.
	Fill Fill
	// Seed seeds the FillNoise generator, rand.NewPCG(Seed, 0).
	Seed uint64
}

// settings is a validated copy of a Sampler with defaults filled in.
type settings struct {
	Sampler
	prob float64
}

func (s *Sampler) settings() (settings, error) {
	c := settings{Sampler: *s}
	if c.Alpha == 0 {
		c.Alpha = 1
	}
	if c.MixupAlpha == 0 {
		c.MixupAlpha = c.Alpha
	}
	if !validAlpha(c.Alpha) {
		return c, fmt.Errorf("alpha %v: %w", s.Alpha, ErrAlpha)
	}
	if !validAlpha(c.MixupAlpha) {
		return c, fmt.Errorf("mixup alpha %v: %w", s.MixupAlpha, ErrAlpha)
	}
	if c.Sigma == 0 {
		c.Sigma = 0.25
	}
	c.prob = c.Prob
	if c.prob == 0 {
		c.prob = 1
	}
	switch {
	case c.Method < 0 || c.Method > Cutout:
		return c, fmt.Errorf("method %d: %w", int(c.Method), ErrUnknown)
	case c.Mode < 0 || c.Mode > ModeElem:
		return c, fmt.Errorf("mode %d: %w", int(c.Mode), ErrUnknown)
	case c.Partner < 0 || c.Partner > PartnerRoll:
		return c, fmt.Errorf("partner %d: %w", int(c.Partner), ErrUnknown)
	case c.Center < 0 || c.Center > CenterGaussian:
		return c, fmt.Errorf("center %d: %w", int(c.Center), ErrUnknown)
	case c.Label < 0 || c.Label > LabelComplete:
		return c, fmt.Errorf("label %d: %w", int(c.Label), ErrUnknown)
	case c.Fill < 0 || c.Fill > FillNoise:
		return c, fmt.Errorf("fill %d: %w", int(c.Fill), ErrUnknown)
	case c.Fit < 0 || c.Fit > FitFill:
		return c, fmt.Errorf("fit %d: %w", int(c.Fit), ErrUnknown)
	case !unit(c.prob):
		return c, fmt.Errorf("prob %v: %w", c.Prob, ErrOption)
	case !unit(c.SwitchProb):
		return c, fmt.Errorf("switch prob %v: %w", c.SwitchProb, ErrOption)
	case !unit(c.Progress):
		return c, fmt.Errorf("progress %v: %w", c.Progress, ErrOption)
	case !(c.Sigma > 0) || math.IsInf(c.Sigma, 0):
		return c, fmt.Errorf("sigma %v: %w", s.Sigma, ErrOption)
	case c.Fixed.X < 0 || c.Fixed.Y < 0 || (c.Fixed.X == 0) != (c.Fixed.Y == 0):
		return c, fmt.Errorf("fixed box %v: %w", c.Fixed, ErrOption)
	case c.MinMax != [2]float64{} && !(c.MinMax[0] >= 0 && c.MinMax[0] <= c.MinMax[1] && c.MinMax[1] > 0 && c.MinMax[1] <= 1):
		return c, fmt.Errorf("minmax %v: %w", c.MinMax, ErrOption)
	case c.Fixed != (image.Point{}) && c.MinMax != [2]float64{}:
		return c, fmt.Errorf("fixed box with minmax: %w", ErrOption)
	}
	if c.Scheduled {
		c.prob *= c.Progress
	}
	if s.Src == nil {
		s.Src = rand.NewPCG(0, 0)
	}
	c.Src = s.Src
	return c, nil
}

func validAlpha(a float64) bool { return a > 0 && !math.IsInf(a, 1) }

func unit(p float64) bool { return p >= 0 && p <= 1 }

// Sample draws one decision for a W×H target image (Partner is 0).
// It returns ErrEmpty if w or h is not positive, ErrBoxTooLarge if Fixed
// does not fit, and the field errors described on Sampler.
func (s *Sampler) Sample(w, h int) (Draw, error) {
	c, err := s.settings()
	if err != nil {
		return Draw{}, fmt.Errorf("sample: %w", err)
	}
	if err := c.check(w, h); err != nil {
		return Draw{}, fmt.Errorf("sample: %w", err)
	}
	r := rand.New(c.Src)
	return c.draw(r, w, h), nil
}

func (c *settings) check(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("size %dx%d: %w", w, h, ErrEmpty)
	}
	if c.Fixed.X > w || c.Fixed.Y > h {
		return fmt.Errorf("fixed box %dx%d in %dx%d image: %w", c.Fixed.X, c.Fixed.Y, w, h, ErrBoxTooLarge)
	}
	return nil
}

// draw makes one decision; c is validated and the size checked.
func (c *settings) draw(r *rand.Rand, w, h int) Draw {
	d := Draw{Method: c.Method, Fill: c.Fill, Lambda: 1, Raw: 1, Weight: 1}
	if c.prob < 1 && !(r.Float64() < c.prob) {
		return d
	}
	d.Applied = true
	if d.Method == CutMix && c.SwitchProb > 0 && r.Float64() < c.SwitchProb {
		d.Method = Mixup
	}
	if d.Method == Mixup {
		a := c.Alpha
		if c.Method != Mixup {
			a = c.MixupAlpha
		}
		lam := beta(r, c.Src, a)
		d.Lambda, d.Raw = lam, lam
		d.Weight = c.weight(lam)
		return d
	}
	switch {
	case c.MinMax[1] > 0:
		d.Box = minMaxBox(r, w, h, c.MinMax, c.InclusiveOrigin)
		d.Raw = corrected(d.Box, w, h)
		d.Lambda = d.Raw
	case c.Fixed.X > 0:
		x0 := r.IntN(w - c.Fixed.X + 1)
		y0 := r.IntN(h - c.Fixed.Y + 1)
		d.Box = image.Rect(x0, y0, x0+c.Fixed.X, y0+c.Fixed.Y)
		d.Raw = corrected(d.Box, w, h)
		d.Lambda = d.Raw
	default:
		d.Raw = beta(r, c.Src, c.Alpha)
		var cx, cy int
		if c.Center == CenterGaussian {
			cy = gaussCenter(r, h, c.Sigma)
			cx = gaussCenter(r, w, c.Sigma)
		} else {
			// The official code draws its "W" (the rows) first.
			cy = r.IntN(h)
			cx = r.IntN(w)
		}
		d.Box = Box(w, h, d.Raw, cx, cy)
		d.Lambda = corrected(d.Box, w, h)
		if c.RawLambda {
			d.Lambda = d.Raw
		}
	}
	if d.Method == Cutout {
		d.Seed = r.Uint64()
		return d
	}
	d.Weight = c.weight(d.Lambda)
	return d
}

func (c *settings) weight(lam float64) float64 {
	switch c.Label {
	case LabelOneHot:
		if lam >= 0.5 {
			return 1
		}
		return 0
	case LabelComplete:
		return 0.5
	}
	return lam
}

// beta draws λ ~ Beta(a, a) with gonum. For very small a both gamma
// variates can underflow to 0 and gonum returns NaN; λ is then 0 or 1 with
// equal probability, the limit of Beta(a, a) as a → 0.
func beta(r *rand.Rand, src rand.Source, a float64) float64 {
	lam := distuv.Beta{Alpha: a, Beta: a, Src: src}.Rand()
	if math.IsNaN(lam) {
		if r.Uint64()&1 == 0 {
			return 0
		}
		return 1
	}
	return min(max(lam, 0), 1)
}

func gaussCenter(r *rand.Rand, dim int, sigma float64) int {
	v := math.Floor(float64(dim)/2 + sigma*float64(dim)*r.NormFloat64())
	return int(min(max(v, 0), float64(dim-1)))
}

// corrected returns 1 − area(b)/(w·h).
func corrected(b image.Rectangle, w, h int) float64 {
	return 1 - float64(b.Dx())*float64(b.Dy())/(float64(w)*float64(h))
}

// Box returns the official CutMix box for a W×H image, λ and integer
// centre (cx, cy): with r = √(1−λ), cutW = int(W·r) and cutH = int(H·r)
// (truncation), the half-open box [cx − cutW/2, cx + cutW/2) ×
// [cy − cutH/2, cy + cutH/2) with integer halving, clipped to the image.
// Unclipped boxes have even sides 2·(cut/2). λ outside [0, 1] is clamped.
func Box(w, h int, lam float64, cx, cy int) image.Rectangle {
	lam = min(max(lam, 0), 1)
	rat := math.Sqrt(1 - lam)
	cw := int(float64(w) * rat)
	ch := int(float64(h) * rat)
	b := image.Rect(cx-cw/2, cy-ch/2, cx+cw/2, cy+ch/2)
	return b.Intersect(image.Rect(0, 0, w, h))
}

// minMaxBox is timm's rand_bbox_minmax: numpy randint(lo, hi) draws from
// [lo, hi); where numpy would raise (hi ≤ lo) the lower bound is used.
func minMaxBox(r *rand.Rand, w, h int, mm [2]float64, inclusive bool) image.Rectangle {
	ch := randint(r, int(float64(h)*mm[0]), int(float64(h)*mm[1]))
	cw := randint(r, int(float64(w)*mm[0]), int(float64(w)*mm[1]))
	extra := 0
	if inclusive {
		extra = 1
	}
	y0 := randint(r, 0, h-ch+extra)
	x0 := randint(r, 0, w-cw+extra)
	return image.Rect(x0, y0, x0+cw, y0+ch)
}

func randint(r *rand.Rand, lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo)
}

// Plan fills draws with one decision per batch element for a batch of
// len(draws) W×H images, following s.Mode and s.Partner, and sets each
// Partner index. It allocates nothing. It returns ErrPair for ModePair with
// an odd batch or PartnerRoll, and the errors of Sample.
func (s *Sampler) Plan(draws []Draw, w, h int) error {
	c, err := s.settings()
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	if err := c.check(w, h); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	n := len(draws)
	if n == 0 {
		return nil
	}
	if c.Mode == ModePair && (n%2 != 0 || c.Partner == PartnerRoll) {
		return fmt.Errorf("plan %s pairs of %d: %w", c.Partner, n, ErrPair)
	}
	r := rand.New(c.Src)
	switch c.Mode {
	case ModeBatch:
		d := c.draw(r, w, h)
		for i := range draws {
			draws[i] = d
		}
	case ModeElem:
		for i := range draws {
			draws[i] = c.draw(r, w, h)
		}
	}
	switch c.Partner {
	case PartnerPermutation:
		for i := range draws {
			draws[i].Partner = i
		}
		for i := n - 1; i > 0; i-- {
			j := r.IntN(i + 1)
			draws[i].Partner, draws[j].Partner = draws[j].Partner, draws[i].Partner
		}
		if c.Mode == ModePair {
			// Pair consecutive entries of the permutation: a random
			// perfect matching. Read the permutation before overwriting.
			for k := 0; k < n; k += 2 {
				a, b := draws[k].Partner, draws[k+1].Partner
				draws[a].Seed, draws[b].Seed = uint64(b), uint64(a)
			}
			for k := range draws {
				draws[k].Partner = int(draws[k].Seed)
			}
		}
	case PartnerFlip:
		for i := range draws {
			draws[i].Partner = n - 1 - i
		}
	case PartnerRoll:
		for i := range draws {
			draws[i].Partner = (i - 1 + n) % n
		}
	}
	if c.Mode == ModePair {
		for i := range draws {
			p := draws[i].Partner
			if i < p {
				d := c.draw(r, w, h)
				d.Partner = p
				draws[i] = d
				d.Partner = i
				draws[p] = d
			}
		}
	}
	return nil
}
