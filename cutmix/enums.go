package cutmix

import (
	"fmt"
	"strings"
)

//go:generate go tool stringer -type=Method
//go:generate go tool stringer -type=Partner -trimprefix=Partner
//go:generate go tool stringer -type=Mode -trimprefix=Mode
//go:generate go tool stringer -type=Center -trimprefix=Center
//go:generate go tool stringer -type=Label -trimprefix=Label
//go:generate go tool stringer -type=Fill -trimprefix=Fill
//go:generate go tool stringer -type=Fit -trimprefix=Fit

// Method is a mixing method. The zero value is CutMix.
type Method int

// Methods. CutMix pastes a box of the partner into the target; Mixup blends
// the two whole images; Cutout fills a box of the target without a partner.
const (
	CutMix Method = iota
	Mixup
	Cutout
)

// Partner selects which element of a batch each element is mixed with.
// The zero value is PartnerPermutation.
type Partner int

// Partner rules.
const (
	// PartnerPermutation pairs element i with element perm[i] of a uniformly
	// random permutation (official CutMix code, torch.randperm). An element
	// may be paired with itself.
	PartnerPermutation Partner = iota
	// PartnerFlip pairs element i with element n-1-i (timm Mixup).
	PartnerFlip
	// PartnerRoll pairs element i with element i-1, element 0 with n-1
	// (torchvision transforms.v2, roll by one).
	PartnerRoll
)

// Mode says how many draws a batch gets (timm Mixup modes).
// The zero value is ModeBatch.
type Mode int

// Modes.
const (
	// ModeBatch uses one draw (method, λ, box) for the whole batch.
	ModeBatch Mode = iota
	// ModePair uses one draw per pair; both members of a pair receive each
	// other's patch with the same box and λ. The partner map must pair
	// elements up: PartnerFlip (timm) or PartnerPermutation (a random
	// perfect matching); the batch size must be even.
	ModePair
	// ModeElem uses an independent draw for every element.
	ModeElem
)

// Center selects the distribution of CutMix box centres.
// The zero value is CenterUniform.
type Center int

// Box centre distributions.
const (
	// CenterUniform draws integer centres uniformly in [0, W) x [0, H)
	// (official code).
	CenterUniform Center = iota
	// CenterGaussian draws centres from a Gaussian at the image centre
	// (paper Table 8 "Center Gaussian CutMix"); see Sampler.Sigma.
	CenterGaussian
)

// Label selects the label weight rule. The zero value is LabelArea.
type Label int

// Label rules. The mixed label is w·y_target + (1−w)·y_partner.
const (
	// LabelArea uses w = λ, the (corrected) fraction of target pixels.
	LabelArea Label = iota
	// LabelOneHot uses w = 1 if λ ≥ 0.5, else 0: the label of the larger
	// portion, ties going to the target (paper "One-hot CutMix").
	LabelOneHot
	// LabelComplete uses w = 0.5 whatever λ is (paper "Complete-label CutMix").
	LabelComplete
)

// Fill selects what Cutout writes into its box. The zero value is FillZero.
type Fill int

// Cutout fills.
const (
	// FillZero writes zeros (black, alpha kept for images).
	FillZero Fill = iota
	// FillMean writes the per-channel mean of the whole target image.
	FillMean
	// FillNoise writes uniform noise: [0, 1) for float batches, 0..255 for
	// images (alpha kept), drawn from a PCG seeded by Draw.Seed.
	FillNoise
)

// Fit says how a partner image of another size is brought to the target's
// size. The zero value is FitStretch.
type Fit int

// Fits.
const (
	// FitStretch resizes the partner to exactly the target's width and
	// height (imaging.Resize, Linear filter); aspect is not kept, but the
	// whole partner stays in frame, so box coordinates are relative
	// positions in both images.
	FitStretch Fit = iota
	// FitFill scales the partner to cover the target keeping its aspect and
	// crops the centre (imaging.Fill, Center anchor, Linear filter).
	FitFill
)

// ParseMethod returns the Method named s. Matching ignores case, '-' and
// '_': "cutmix", "CutMix" and "cut-mix" all give CutMix.
func ParseMethod(s string) (Method, error) { return parse(s, "method", Cutout, Method.String) }

// ParsePartner returns the Partner named s ("permutation", "flip", "roll"),
// matching like ParseMethod.
func ParsePartner(s string) (Partner, error) {
	return parse(s, "partner", PartnerRoll, Partner.String)
}

// ParseMode returns the Mode named s ("batch", "pair", "elem"), matching
// like ParseMethod.
func ParseMode(s string) (Mode, error) { return parse(s, "mode", ModeElem, Mode.String) }

// ParseCenter returns the Center named s ("uniform", "gaussian"), matching
// like ParseMethod.
func ParseCenter(s string) (Center, error) {
	return parse(s, "center", CenterGaussian, Center.String)
}

// ParseLabel returns the Label named s ("area", "one-hot", "complete"),
// matching like ParseMethod.
func ParseLabel(s string) (Label, error) { return parse(s, "label", LabelComplete, Label.String) }

// ParseFill returns the Fill named s ("zero", "mean", "noise"), matching
// like ParseMethod.
func ParseFill(s string) (Fill, error) { return parse(s, "fill", FillNoise, Fill.String) }

// ParseFit returns the Fit named s ("stretch", "fill"), matching like
// ParseMethod.
func ParseFit(s string) (Fit, error) { return parse(s, "fit", FitFill, Fit.String) }

func parse[T ~int](s, kind string, last T, name func(T) string) (T, error) {
	key := normName(s)
	for v := T(0); v <= last; v++ {
		if normName(name(v)) == key {
			return v, nil
		}
	}
	return 0, fmt.Errorf("parse %s %q: %w", kind, s, ErrUnknown)
}

func normName(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("-", "", "_", "", " ", "").Replace(s)
}
