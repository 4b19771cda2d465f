package onnx_test

import (
	"context"
	"math"
	"testing"

	"github.com/cutmixcam/cutmix-cam/onnx"
	"github.com/cutmixcam/cutmix-cam/onnx/preprocess"
	"github.com/cutmixcam/cutmix-cam/robust"
)

// ce returns Σ_n CE(logits_n, labels[n]) in float64.
func ce(logits []float32, k int, labels []int) float64 {
	var s float64
	for n, l := range labels {
		row := logits[n*k : (n+1)*k]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var z float64
		for _, v := range row {
			z += math.Exp(float64(v) - mx)
		}
		s += mx + math.Log(z) - float64(row[l])
	}
	return s
}

// TestPixelsLossGradient checks the pixel-space cross-entropy gradient
// (normalisation folded in) against central finite differences of the
// loss computed from Logits.
func TestPixelsLossGradient(t *testing.T) {
	m := openModel(t, fixture("models", "tiny_cam.onnx"), onnx.Options{})
	ctx := context.Background()
	for _, norm := range []preprocess.Norm{preprocess.Unit, preprocess.ImageNet} {
		p := &onnx.Pixels{Model: m, Norm: norm}
		x := randomInput(2*3*16*16, 3)
		for i := range x {
			x[i] = 0.5 + 0.4*x[i]
		}
		b := robust.Batch{Data: x, N: 2, C: 3, H: 16, W: 16}
		labels := []int{1, 4}
		_, k, grad, err := p.LossGradient(ctx, b, labels)
		if err != nil {
			t.Fatal(err)
		}
		var gmax float64
		for _, g := range grad {
			gmax = math.Max(gmax, math.Abs(float64(g)))
		}
		const h = 2e-3
		for _, i := range []int{0, 17, 255, 300, 511, 767, 768 + 40, 1535} {
			orig := x[i]
			x[i] = orig + h
			lp, _, err := p.Logits(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			up := ce(lp, k, labels)
			x[i] = orig - h
			lm, _, err := p.Logits(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			down := ce(lm, k, labels)
			x[i] = orig
			fd := (up - down) / (2 * h)
			if math.Abs(fd-float64(grad[i])) > 5e-3*gmax+2e-4 {
				t.Errorf("norm %+v pixel %d: gradient %g, finite difference %g (max |g| %g)", norm, i, grad[i], fd, gmax)
			}
		}
	}
}

// TestFGSMOnModel runs robust's FGSM through the adapter: the loss must
// not fall, and every pixel moves by ε or is clipped.
func TestFGSMOnModel(t *testing.T) {
	m := openModel(t, fixture("models", "tiny_cam.onnx"), onnx.Options{})
	p := &onnx.Pixels{Model: m, Norm: preprocess.ImageNet}
	ctx := context.Background()
	x := randomInput(4*3*16*16, 8)
	for i := range x {
		x[i] = 0.5 + 0.45*x[i]
	}
	b := robust.Batch{Data: x, N: 4, C: 3, H: 16, W: 16}
	labels := []int{0, 1, 2, 3}
	adv, err := robust.FGSM{Epsilon: 4.0 / 255}.Perturb(ctx, p, b, labels)
	if err != nil {
		t.Fatal(err)
	}
	l0, k, _ := p.Logits(ctx, b)
	l1, _, _ := p.Logits(ctx, adv)
	if ce(l1, k, labels) < ce(l0, k, labels) {
		t.Errorf("FGSM lowered the loss: %g -> %g", ce(l0, k, labels), ce(l1, k, labels))
	}
	for i := range x {
		d := math.Abs(float64(adv.Data[i] - x[i]))
		if d > 4.0/255+1e-6 {
			t.Fatalf("pixel %d moved %g > ε", i, d)
		}
	}
}
