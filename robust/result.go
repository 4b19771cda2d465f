package robust

// SchemaVersion is the version of the Report JSON schema. It changes
// whenever a field is renamed, removed or changes meaning.
const SchemaVersion = 1

// Conventions recorded in every report.
const (
	// Space is the space ε, steps and fills are measured in.
	Space = "pixel [0,1]"
	// Normalization says where the model's mean/std normalisation happens.
	Normalization = "inside the model: logits = f((x - mean) / std), differentiated through"
	// Loss is the loss the attacks differentiate.
	Loss = "cross-entropy on logits, summed over the batch (a sign step makes sum and mean equivalent)"
)

// Report holds every number of an Evaluate run and the conventions used.
// It marshals to snake_case JSON with "schema_version" and "seed"; a
// section that did not run is omitted. Rates are fractions in [0, 1]
// (multiply by 100 for the paper's percentages), and a rate over zero
// samples is 0. A Report is a plain value.
type Report struct {
	SchemaVersion int    `json:"schema_version"`
	Seed          uint64 `json:"seed"`
	Space         string `json:"space"`
	Normalization string `json:"normalization"`
	BatchSize     int    `json:"batch_size"`
	// Images is the dataset size; Channels, Height and Width its shape.
	Images   int `json:"images"`
	Channels int `json:"channels"`
	Height   int `json:"height"`
	Width    int `json:"width"`

	FGSM      *AttackResult    `json:"fgsm,omitempty"`
	PGD       *AttackResult    `json:"pgd,omitempty"`
	Occlusion *OcclusionResult `json:"occlusion,omitempty"`
	Between   *BetweenResult   `json:"between,omitempty"`
	// Skipped lists the stages that could not run, with the reason, such as
	// FGSM on a model without gradients.
	Skipped []SkippedStage `json:"skipped,omitempty"`
}

// SkippedStage records a stage Evaluate skipped and why.
type SkippedStage struct {
	Stage  string `json:"stage"`
	Reason string `json:"reason"`
}

// AttackResult is the outcome of FGSM or PGD over a dataset. Accuracies
// count top-1 predictions (argmax, first index on ties) equal to the
// label over all Images. The attack success rate is defined among the
// clean-correct images: the fraction whose adversarial prediction differs
// from the label. For targeted attacks TargetRate is the fraction of the
// clean-correct images predicted as their target.
type AttackResult struct {
	Attack string `json:"attack"` // "fgsm" or "pgd"
	Target string `json:"target"` // Target.String()
	Space  string `json:"space"`
	Loss   string `json:"loss"`
	Clip   string `json:"clip"`
	// Step, Steps and RandomStart describe PGD; FGSM has one step of ε and
	// no random start.
	Step        float64 `json:"step,omitempty"`
	Steps       int     `json:"steps"`
	RandomStart bool    `json:"random_start"`
	Seed        uint64  `json:"seed"`

	Images        int           `json:"images"`
	CleanCorrect  int           `json:"clean_correct"`
	CleanAccuracy float64       `json:"clean_accuracy"`
	Points        []AttackPoint `json:"points"`
}

// AttackPoint is the outcome at one ε. MaxLinf is the largest
// |x_adv − x| observed, a check that the attack stayed within ε.
type AttackPoint struct {
	Epsilon     float64 `json:"epsilon"`
	Epsilon255  float64 `json:"epsilon_255"` // ε·255
	Correct     int     `json:"correct"`
	Accuracy    float64 `json:"accuracy"`
	Successes   int     `json:"successes"`
	SuccessRate float64 `json:"success_rate"`
	TargetHits  int     `json:"target_hits,omitempty"`
	TargetRate  float64 `json:"target_rate,omitempty"`
	MaxLinf     float64 `json:"max_linf"`
}

// OcclusionResult holds top-1 error curves under occlusion. FillValue is
// the per-channel pixel value written.
type OcclusionResult struct {
	Space     string           `json:"space"`
	Fill      string           `json:"fill"` // Fill.String()
	FillValue []float64        `json:"fill_value"`
	Steps     int              `json:"steps"`
	Grid      string           `json:"grid"`
	Images    int              `json:"images"`
	Curves    []OcclusionCurve `json:"curves"`
}

// OcclusionCurve is the top-1 error against the hole size for one
// Occluder, smallest hole first.
type OcclusionCurve struct {
	Occluder string           `json:"occluder"` // Occluder.String()
	Points   []OcclusionPoint `json:"points"`
}

// OcclusionPoint is the outcome at grid index K: the hole is
// HoleWidth×HoleHeight pixels, Size224 the side on the paper's 0..224
// axis (224·k/K), and Error = Errors/Images the top-1 error.
type OcclusionPoint struct {
	K          int     `json:"k"`
	Size224    float64 `json:"size_224"`
	HoleWidth  int     `json:"hole_width"`
	HoleHeight int     `json:"hole_height"`
	Errors     int     `json:"errors"`
	Error      float64 `json:"error"`
}

// BetweenResult holds the in-between-class error curves: the error is
// the fraction of pairs predicted as neither source class (the paper's
// main text).
type BetweenResult struct {
	Space  string         `json:"space"`
	Seed   uint64         `json:"seed"`
	Pairs  int            `json:"pairs"`
	Steps  int            `json:"steps"`
	Error  string         `json:"error"`
	Curves []BetweenCurve `json:"curves"`
}

// BetweenCurve is one probe's error against λ, the weight (Mixup) or
// pixel fraction (CutMix) of image A, λ ascending.
type BetweenCurve struct {
	Mix    string         `json:"mix"` // Mix.String()
	Points []BetweenPoint `json:"points"`
}

// BetweenPoint is the outcome at one λ. For CutMix, HoleWidth×HoleHeight
// is the centred hole filled from image B and λ = 1 − area/(W·H). PredA
// and PredB count pairs predicted as A's or B's class, Neither the rest;
// Error = Neither/Pairs.
type BetweenPoint struct {
	K          int     `json:"k"`
	Lambda     float64 `json:"lambda"`
	HoleWidth  int     `json:"hole_width,omitempty"`
	HoleHeight int     `json:"hole_height,omitempty"`
	PredA      int     `json:"pred_a"`
	PredB      int     `json:"pred_b"`
	Neither    int     `json:"neither"`
	Error      float64 `json:"error"`
}

// rate returns a/b, or 0 when b is 0.
func rate(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
