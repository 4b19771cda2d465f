// Package cutmix implements CutMix (Yun et al., ICCV 2019), its paper
// variants, timm's Mixup options, and the Mixup and Cutout baselines, on
// images and on float32 NCHW batches, and generates probe images whose
// geometry (which class lies where) is recorded in a manifest.
//
// # Method
//
// CutMix combines a target image x_A with a partner x_B:
//
//	x̃ = M ⊙ x_A + (1 − M) ⊙ x_B,   ỹ = λ·y_A + (1 − λ)·y_B
//
// where M is 0 inside a box and 1 elsewhere. λ is drawn from Beta(α, α)
// (gonum distuv.Beta with an explicit Src; α = 1 gives Uniform(0, 1)), the
// box sides are W·√(1−λ) and H·√(1−λ), so the box keeps the image's aspect,
// and its centre is uniform over the image. The box is clipped to the
// image, and λ is then corrected to the fraction of target pixels left:
//
//	λ = 1 − area(box)/(W·H)
//
// The corrected λ is what Draw.Lambda reports and what the labels use.
// Mixup blends whole images, x̃ = λ·x_A + (1−λ)·x_B; Cutout fills a box of
// x_A with zeros, the mean colour or noise and keeps y_A.
//
// # Integer conventions
//
// By default the box matches the official code (clovaai/CutMix-PyTorch
// train.py rand_bbox; REFERENCE.md B.1), not the paper's pseudo-code:
//
//   - the side is truncated: cut = int(dim·√(1−λ));
//   - the centre is an integer drawn uniformly from [0, dim);
//   - the box is half-open, [c − cut/2, c + cut/2) with integer halving,
//     so an unclipped box has the even side 2·(cut/2), one pixel short of
//     cut when cut is odd;
//   - the box is clipped to [0, dim), and λ corrected as above.
//
// The official rand_bbox calls the NCHW size[2] "W" and size[3] "H", so its
// "W" is really the height: cut_w is the row extent and bbx1/bbx2 index
// rows. The naming is self-consistent and only swaps the labels; this
// package uses x for columns and y for rows throughout and, like the
// official code, draws the row centre before the column centre. Boxes are
// image.Rectangle values, Min inclusive and Max exclusive.
//
// # Variants
//
// Each variant of the paper's Table 8 is a Sampler field: Center and Sigma
// (centre-Gaussian boxes), Fixed (fixed-size boxes), Scheduled and
// Progress (application probability rising linearly with training),
// Label (one-hot and complete-label targets), and Alpha (any α > 0).
// timm's Mixup options are Prob, SwitchProb, MinMax (cutmix_minmax, with
// timm's exclusive last origin unless InclusiveOrigin), Mode (batch, pair,
// elem), RawLambda (correct_lam=False), and the smoothing argument of
// Labels (label_smoothing: off = s/K, on = 1 − s + s/K); the partner rules are
// PartnerPermutation (official), PartnerFlip (timm) and PartnerRoll
// (torchvision).
//
// # Images and batches
//
// Mix, Blend, Erase and Render take image.Image values and return fresh
// *image.NRGBA images with bounds starting at (0, 0). A partner of another
// size is resized to the target's size (FitStretch) or scaled and
// centre-cropped (FitFill), with github.com/disintegration/imaging.
//
// Sampler.Plan and Apply work on float32 NCHW batches in caller memory:
// Plan fills a []Draw, Apply writes the mixed batch into dst reading only
// from src, copying CutMix patches row by row, and neither allocates.
// Labels writes the matching soft labels.
//
// # Probes
//
// Probes and Between make probe images with a Manifest (schema version
// SchemaVersion) that records, for each probe, the source ids and classes,
// the box in pixel coordinates, the corrected λ, the method and variant,
// and the seed. ReadImages and ReadFolder (ImageFolder layout) load
// sources, ContactSheet draws the boxes on thumbnails, and Write stores
// everything in a directory with atomic renames.
//
// # Concurrency
//
// Package functions keep no state and may be called concurrently; a
// Sampler may not, because its Src advances with every draw. The enum
// types, Draw, Shape, Record and the other plain structs are values.
//
// # Randomness
//
// Every random draw comes from an explicit math/rand/v2 Source: Sampler.Src
// for sampling, rand.NewPCG(Draw.Seed, 0) for noise fills, and
// rand.NewPCG(Probe.Seed, i) for probe i. The same seed gives the same
// draws and the same bytes.
package cutmix
