package cam

import (
	"fmt"
	"strings"
)

// methods returns every registered method with its default settings, in
// the order Names lists them.
func methods() []Method {
	return []Method{
		CAM{}, CAMReLU{},
		GradCAM{}, GradCAMPlusPlus{}, XGradCAM{}, HiResCAM{}, LayerCAM{}, EigenGradCAM{},
		EigenCAM{}, ScoreCAM{}, AblationCAM{},
		Occlusion{}, Saliency{}, SmoothGrad{}, IntegratedGradients{},
	}
}

// Names returns the registered method names: cam, cam-relu, gradcam,
// gradcam++, xgradcam, hirescam, layercam, eigengradcam, eigencam,
// scorecam, ablationcam, occlusion, saliency, smoothgrad, ig.
func Names() []string {
	ms := methods()
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name()
	}
	return out
}

// Lookup returns the method registered under name, with its default
// settings. Names are case-insensitive; "gradcampp" is accepted for
// "gradcam++" and "integrated-gradients" for "ig". An unknown name gives
// an error wrapping ErrUnknownMethod that lists the valid names.
func Lookup(name string) (Method, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "gradcampp", "grad-cam++":
		n = "gradcam++"
	case "integrated-gradients", "integratedgradients":
		n = "ig"
	}
	for _, m := range methods() {
		if m.Name() == n {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknownMethod, name, strings.Join(Names(), ", "))
}

// NeedsGradients reports whether m differentiates the model: true for the
// gradient family (which a HeadModel serves in closed form instead) and
// for the input attributions (which need an InputGradientModel).
func NeedsGradients(m Method) bool {
	switch m.(type) {
	case GradCAM, GradCAMPlusPlus, XGradCAM, HiResCAM, LayerCAM, EigenGradCAM,
		Saliency, SmoothGrad, IntegratedGradients:
		return true
	}
	return false
}
