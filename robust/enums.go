package robust

import (
	"fmt"
	"strings"
)

//go:generate go tool stringer -type=Target,Occluder,Fill,Mix,Stage -linecomment -output=enums_string.go

// Target selects the classes an attack aims at. The zero value is
// Untargeted.
type Target int

// Targets.
const (
	// Untargeted ascends the loss of the true label.
	Untargeted Target = iota // untargeted
	// TargetRandom descends the loss of a class drawn uniformly among the
	// K − 1 classes other than the label (torchattacks
	// set_mode_targeted_random), for image i from
	// rand.NewPCG(Config.Seed, 1<<62 | i).
	TargetRandom // random
	// TargetLeastLikely descends the loss of the class with the smallest
	// clean logit (torchattacks set_mode_targeted_least_likely), which may
	// be the label itself.
	TargetLeastLikely // least-likely
)

// Occluder is an occlusion pattern of the CutMix paper (Fig. 5a). The
// zero value is Center.
type Occluder int

// Occluders.
const (
	// Center fills a centred hole.
	Center Occluder = iota // center
	// Boundary fills everything outside a centred hole.
	Boundary // boundary
)

// Fill is the colour occlusion writes. The zero value is FillBlack.
type Fill int

// Fills.
const (
	// FillBlack writes pixel value 0 (black), "zero" in pixel space.
	FillBlack Fill = iota // black
	// FillMean writes a mean colour: Occlusion.Mean, typically the model's
	// normalisation mean (so the hole is 0 after normalisation), or the
	// dataset's per-channel mean when Mean is nil.
	FillMean // mean
)

// Mix is an in-between-class probe of the CutMix paper (Fig. 5b). The
// zero value is Mixup.
type Mix int

// Mixes.
const (
	// Mixup blends whole images, λ·x_A + (1−λ)·x_B.
	Mixup Mix = iota // mixup
	// CutMix keeps x_A outside a centred hole and x_B inside it.
	CutMix // cutmix
)

// Stage is one evaluation of Evaluate, named in progress callbacks.
type Stage int

// Stages.
const (
	StageFGSM      Stage = iota // fgsm
	StagePGD                    // pgd
	StageOcclusion              // occlusion
	StageBetween                // between
)

// ParseTarget parses "untargeted", "random" or "least-likely".
func ParseTarget(s string) (Target, error) { return parse(s, "target", TargetLeastLikely) }

// ParseOccluder parses "center" or "boundary".
func ParseOccluder(s string) (Occluder, error) { return parse(s, "occluder", Boundary) }

// ParseFill parses "black" or "mean".
func ParseFill(s string) (Fill, error) { return parse(s, "fill", FillMean) }

// ParseMix parses "mixup" or "cutmix".
func ParseMix(s string) (Mix, error) { return parse(s, "mix", CutMix) }

// ParseStage parses "fgsm", "pgd", "occlusion" or "between".
func ParseStage(s string) (Stage, error) { return parse(s, "stage", StageBetween) }

func parse[T interface {
	~int
	String() string
}](s, kind string, last T) (T, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	names := make([]string, 0, int(last)+1)
	for v := T(0); v <= last; v++ {
		if v.String() == t {
			return v, nil
		}
		names = append(names, v.String())
	}
	return 0, fmt.Errorf("parse %s %q (want %s): %w", kind, s, strings.Join(names, ", "), ErrOption)
}
