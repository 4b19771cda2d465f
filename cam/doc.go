// Package cam computes class activation maps and input attributions for
// image classifiers, to answer "does this checkpoint look at the
// object?": CAM, the Grad-CAM family, Score-CAM, Ablation-CAM, Eigen-CAM,
// occlusion sensitivity, gradient saliency, SmoothGrad and Integrated
// Gradients, with resizing, normalisation, colormaps, overlays and panels.
//
// The package is pure Go. It declares the small interfaces it needs from a
// model (Model, HeadModel, GradientModel, InputGradientModel); onnx.Model
// implements them through an adapter, and the tests use small real models
// written in Go.
//
// # Methods
//
// Compute runs a Method on a Batch and returns one Result per image and
// target class. Lookup and Names form the registry the CLI uses:
//
//	name          needs                             map
//	cam           HeadModel                         mean_c W[k,c]·A[c]  (no ReLU, wsolevaluation)
//	cam-relu      HeadModel                         max(0, Σ_c W[k,c]·A[c])
//	gradcam       HeadModel or GradientModel        max(0, Σ_c mean(g_c)·A[c])
//	gradcam++     HeadModel or GradientModel        pytorch-grad-cam's α with g², g³
//	xgradcam      HeadModel or GradientModel        max(0, Σ_c (Σ g·A / Σ A)·A[c])
//	hirescam      HeadModel or GradientModel        max(0, Σ_c g·A)
//	layercam      HeadModel or GradientModel        max(0, Σ_c max(g,0)·A)
//	eigengradcam  HeadModel or GradientModel        max(0, first principal component of g·A)
//	eigencam      Model                             max(0, first principal component of A)
//	scorecam      Model                             max(0, Σ_c softmax(s_masked)_c·A[c])
//	ablationcam   HeadModel                         max(0, Σ_c ((s − s_ablated)/s)·A[c])
//	occlusion     Model                             mean score drop over covering patches
//	saliency      InputGradientModel                max_c |∂s/∂x|
//	smoothgrad    InputGradientModel                max_c mean_noise |∂s/∂x|
//	ig            InputGradientModel                Σ_c (x − x′)·∫∂s/∂x
//
// Here A is the target layer's C×H×W activation of one image, s the score
// (logit) of the explained class k and g = ∂s/∂A. Each method's doc
// comment gives its definition and the reference implementation it
// follows: pytorch-grad-cam for the Grad-CAM family, Score-CAM,
// Ablation-CAM and Eigen-CAM; wsolevaluation for CAM; captum for
// occlusion and the input attributions.
//
// # Closed form for a linear head
//
// When the layer feeds global average pooling and one linear layer
// (scores = W·mean_{y,x} A + b), the gradient is exact without a graph:
//
//	∂s_k/∂A[c,y,x] = W[k,c] / (H·W)
//
// The Grad-CAM family uses it whenever the model is a HeadModel and
// Options.ForceGradients is false, so it costs one forward pass; otherwise
// it calls GradientModel.Gradients. The tests check the closed form
// against central finite differences of a Go model and check that both
// paths give the same maps. Ablation-CAM uses the same head to compute
// each ablated score exactly, without modifying the model.
//
// # Targets
//
// A Target selects the explained classes: the zero value is the top-1
// class of each image; TopK(k) explains the k best classes; Class(c) one
// class for all images; PerImage(classes) one class per image, such as the
// ground-truth labels of the wsolevaluation GT-known protocol. A class
// outside [0, K) gives an error wrapping ErrClassRange.
//
// # Resolution, normalisation and the ReLU
//
// A Result's Map is raw: at the layer's resolution for the activation
// methods, at the input resolution for occlusion and the input
// attributions, and not normalised. Map.Scoremap resizes it and then
// min-max normalises it, the wsolevaluation order:
//
//   - Resize with Linear (OpenCV INTER_LINEAR, the default) or Cubic
//     (OpenCV INTER_CUBIC, for parity with wsolevaluation) or Nearest,
//     through package internal/resample.
//   - Normalize: if any value is NaN (or ±Inf) or the map is constant, all
//     zeros; else (v − min)/(max − min), attaining exactly 0 and 1.
//
// Every method of the Grad-CAM family, Score-CAM, Ablation-CAM and
// Eigen-CAM applies a ReLU to its raw map, as pytorch-grad-cam does before
// scaling. CAM does not (wsolevaluation); cam-relu does. Occlusion and
// Integrated Gradients keep their sign; saliency and SmoothGrad are
// magnitudes.
//
// pytorch-grad-cam scales each map as ReLU, min-max with 1e-7 in the
// denominator, bilinear resize, and min-max again. Since a bilinear resize
// commutes with the affine min-max, Scoremap(w, h, Linear) of the raw map
// equals its result up to that 1e-7.
//
// # Coordinates
//
// Maps are row-major with rows = y and cols = x: Map.At(x, y) is V[y*W+x],
// and a map resized to the input matches input pixel (x, y). Batches and
// activations are NCHW.
//
// # Rendering
//
// Colormap (Turbo, the default; Viridis; Jet, OpenCV's COLORMAP_JET) maps
// a normalised value to a colour through a 256-entry table indexed by
// ⌊255·v⌋, as OpenCV's applyColorMap does. Colorize draws a map, Overlay
// blends it over an image with weight Style.Alpha, and Panel lays out
// image | map | overlay rows, one row per method.
//
// # Faithfulness
//
// Faithfulness.Score measures whether a map points at what the model uses:
// deletion and insertion AUC (Petsiuk et al., RISE, BMVC 2018: remove or
// insert pixels most salient first and integrate the class probability
// with the trapezoid rule on [0, 1]) and average drop / increase in
// confidence (Chattopadhyay et al., Grad-CAM++, WACV 2018: the
// probability on the image masked by the normalised map against the
// probability on the image). See Faithfulness for the exact definitions.
//
// # Concurrency and progress
//
// Methods and Targets are immutable values, safe for concurrent use (a
// SmoothGrad with a shared Src excepted). Compute calls the Model from the
// calling goroutine only, and reports progress through Options.Progress;
// the package never prints.
package cam
