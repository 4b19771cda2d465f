// Package robust measures how image classifiers resist adversarial
// attacks, occlusion and in-between-class inputs, following the CutMix
// paper's robustness protocols (Yun et al., ICCV 2019, Sec. 4.4 and
// Appendix E.1): FGSM and PGD under the L∞ norm, centre and boundary
// occlusion, and Mixup and CutMix in-between-class probes.
//
// The package is pure Go. It declares the interfaces it needs from a
// model, Model (logits) and GradientModel (logits and the input gradient
// of the cross-entropy loss); onnx.Model implements them through an
// adapter, and the tests use small real models written in Go.
//
// # Pixel space and normalisation
//
// Every image is a float32 C×H×W array of pixel values in [0, 1], before
// the model's normalisation; a Model normalises inside, logits =
// f((x − mean)/std), and a GradientModel differentiates through that, so
// ∂L/∂x = (∂L/∂x̂)/std. ε, PGD's step, the random start and occlusion
// fills are all in pixel units, as in torchattacks and foolbox
// (REFERENCE.md C); the CutMix paper's ε = 8/255 does not state its space,
// so every report records it (Space).
//
// # Attacks
//
// FGSM and PGD follow torchattacks (fgsm.py, pgd.py):
//
//	FGSM:  x_adv = clip(x + ε·sign(∇ₓ CE(f(x), y)), 0, 1)
//	PGD:   x⁰ = clip(x + U(−ε, ε), 0, 1)
//	       xᵗ⁺¹ = clip(x + clip(xᵗ + α·sign(∇ₓ CE(f(xᵗ), y)) − x, −ε, ε), 0, 1)
//
// with sign(0) = 0 (torch.sign) and float32 arithmetic. Targeted attacks
// step down the loss of a target class instead (x − ε·sign(∇ CE(f(x), t))).
// The loss is summed over the batch, as foolbox does; torchattacks takes
// the mean, which scales every gradient by 1/N and leaves each sign, hence
// each step, unchanged. PGD defaults to ε = 8/255, α = 2/255, 10 steps and
// a random start, and always takes every step (no early exit).
//
// EvalFGSM and EvalPGD report, per ε, the top-1 accuracy on clean and
// adversarial images over all images, and the attack success rate:
// among the images the model classifies correctly before the attack, the
// fraction it misclassifies after. Targeted attacks also report the
// fraction of those images classified as their target.
//
// # Occlusion
//
// EvalOcclusion fills a centred hole (Center) or everything outside it
// (Boundary) and reports the top-1 error against the hole size (paper
// Fig. 5a). The paper's hole sides run over 0..224 on 224-pixel inputs;
// here grid point k of K is Hole(W, H, k, K), round(k/K·W) ×
// round(k/K·H) pixels, so any input size spans the same relative grid and
// k = K covers the image. The default K = 14 is the paper's axis in steps
// of 16 pixels; each point also records Size224 = 224·k/K. The paper's
// "zero" may mean black pixels or the normalised zero (the mean colour):
// FillBlack writes pixel 0, FillMean the given or dataset mean colour, and
// the report records which and the value.
//
// # In-between-class probes
//
// EvalBetween mixes pairs of images of different classes (paper Fig. 5b)
// and counts predictions in neither source class (the paper's main text;
// its appendix says accuracy). Mixup probes are λ·x_A + (1−λ)·x_B with
// λ = k/K; CutMix probes keep x_A outside the centred hole Hole(W, H, k, K)
// and take x_B inside it, λ = 1 − area/(W·H), the fraction of x_A, as
// cutmix.Between does (which image fills the hole the paper does not
// say). The mixing itself is cutmix.ApplyPair. Pair i has x_A = image
// i mod n and x_B drawn uniformly among the images of other classes.
//
// # Randomness
//
// Everything random comes from rand.NewPCG(seed, stream) of math/rand/v2,
// with one stream per image so that results do not depend on the batch
// size: PGD's random start of image i uses stream i, random targets
// stream 1<<62 | i, and in-between pair i stream 1<<63 | i. The same seed
// gives the same bytes. Reports record the seed.
//
// # Results
//
// Report collects every number with the conventions used and marshals to
// snake_case JSON with "schema_version" (SchemaVersion) and "seed". Rates
// are fractions in [0, 1]. Top-1 is the first largest logit.
//
// # Concurrency
//
// Package functions keep no state and may run concurrently on different
// models; each evaluation calls its Model and Dataset from the calling
// goroutine only. Config, PGD, FGSM, Report and the other structs are
// plain values.
package robust
