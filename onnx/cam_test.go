package onnx_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/cutmixcam/cutmix-cam/cam"
	"github.com/cutmixcam/cutmix-cam/onnx"
)

// TestCAMEqualsClosedForm checks cam.CAM on ONNX Runtime against the map
// computed from the plain-Go forward pass and the fc weights read from the
// protobuf: mean over channels of w[class][c]·features[c].
func TestCAMEqualsClosedForm(t *testing.T) {
	path := fixture("models", "tiny_cam.onnx")
	m := openModel(t, path, onnx.Options{})
	w := initializers(t, path)
	x := randomInput(2*3*16*16, 5)
	feats, _ := refTinyCAM(w, x, 2)
	b := cam.Batch{Data: x, N: 2, C: 3, H: 16, W: 16}
	rs, err := cam.Compute(context.Background(), m, b, cam.CAM{}, cam.Options{Target: cam.Class(3)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		for y := 0; y < 8; y++ {
			for xx := 0; xx < 8; xx++ {
				var want float64
				for c := 0; c < 6; c++ {
					want += float64(w["fc.w"][3*6+c]) * float64(feats.at(r.Image, c, y, xx))
				}
				want /= 6
				if got := r.Map.At(xx, y); math.Abs(got-want) > 1e-5 {
					t.Fatalf("image %d CAM(%d,%d) = %g, want %g", r.Image, xx, y, got, want)
				}
			}
		}
	}
}

// TestCAMFastPathEqualsGraphGradient checks that the closed-form gradient
// methods (GAP→linear head) equal the same methods computed from the ONNX
// gradient graph, on our fixtures and a real third-party MobileNetV2.
func TestCAMFastPathEqualsGraphGradient(t *testing.T) {
	paths := []func(testing.TB) string{
		func(testing.TB) string { return fixture("models", "tiny_cam.onnx") },
		func(testing.TB) string { return fixture("models", "tiny_avgpool.onnx") },
		func(testing.TB) string { return fixture("models", "tiny_gray_static.onnx") },
		func(t testing.TB) string { return zoo(t, "st-mobilenet_v2_0.5_128-person.onnx") },
	}
	methods := []cam.Method{cam.GradCAM{}, cam.GradCAMPlusPlus{}, cam.XGradCAM{}, cam.HiResCAM{}, cam.LayerCAM{}, cam.EigenGradCAM{}}
	for _, p := range paths {
		path := p(t)
		t.Run(path, func(t *testing.T) {
			m := openModel(t, path, onnx.Options{})
			c, h, w := m.InputShape()
			x := randomInput(2*c*h*w, 11)
			for i := range x {
				x[i] = float32(math.Abs(float64(x[i])))
			}
			b := cam.Batch{Data: x, N: 2, C: c, H: h, W: w}
			for _, meth := range methods {
				fast, err := cam.Compute(context.Background(), m, b, meth, cam.Options{})
				if err != nil {
					t.Fatal(err)
				}
				slow, err := cam.Compute(context.Background(), m, b, meth, cam.Options{ForceGradients: true})
				if err != nil {
					t.Fatal(err)
				}
				for i := range fast {
					var scale, diff float64
					for j, v := range fast[i].Map.V {
						scale = math.Max(scale, math.Abs(v))
						diff = math.Max(diff, math.Abs(v-slow[i].Map.V[j]))
					}
					if diff > 1e-4*math.Max(scale, 1e-6) && diff > 1e-7 {
						t.Errorf("%s image %d: closed form and graph gradient differ by %g (scale %g)", meth.Name(), i, diff, scale)
					}
					if fast[i].Class != slow[i].Class {
						t.Errorf("%s image %d: classes %d vs %d", meth.Name(), i, fast[i].Class, slow[i].Class)
					}
				}
			}
		})
	}
}

func TestCAMAdapterErrors(t *testing.T) {
	m := openModel(t, fixture("models", "tiny_cam.onnx"), onnx.Options{})
	ctx := context.Background()
	b := cam.Batch{Data: make([]float32, 3*16*16), N: 1, C: 3, H: 16, W: 16}
	if _, err := m.Forward(ctx, b, "logits"); !errors.Is(err, cam.ErrShape) {
		t.Errorf("Forward on a 2-D layer: %v, want cam.ErrShape", err)
	}
	if _, err := m.Forward(ctx, b, "nope"); !errors.Is(err, onnx.ErrNoTensor) {
		t.Errorf("Forward on an unknown layer: %v, want onnx.ErrNoTensor", err)
	}
	if _, err := m.LinearHead(ctx, "relu1"); !errors.Is(err, cam.ErrNoHead) {
		t.Errorf("LinearHead(relu1): %v, want cam.ErrNoHead", err)
	}
	bad := cam.Batch{Data: make([]float32, 10), N: 1, C: 3, H: 16, W: 16}
	if _, err := m.Forward(ctx, bad, ""); !errors.Is(err, cam.ErrShape) {
		t.Errorf("Forward with a short batch: %v, want cam.ErrShape", err)
	}
	// An intermediate layer works through the gradient graph.
	rs, err := cam.Compute(ctx, m, b, cam.GradCAM{}, cam.Options{Layer: "relu1"})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Map.W != 16 || rs[0].Map.H != 16 {
		t.Errorf("Grad-CAM on relu1 is %d×%d, want 16×16", rs[0].Map.W, rs[0].Map.H)
	}
}
