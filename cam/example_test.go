package cam_test

import (
	"context"
	"fmt"
	"image"

	"github.com/cutmixcam/cutmix-cam/cam"
)

// toyNet is a tiny classifier: its layer is its own 2-channel input and a
// global-average-pooling linear head scores two classes with weights
// (1, −1) and (−1, 1).
type toyNet struct{}

func (toyNet) weights() []float32 { return []float32{1, -1, -1, 1} }

func (t toyNet) Forward(_ context.Context, b cam.Batch, _ string) (cam.Activations, error) {
	w := t.weights()
	out := cam.Activations{Acts: b.Data, C: b.C, H: b.H, W: b.W, K: 2}
	hw := b.H * b.W
	for n := range b.N {
		for k := range 2 {
			var s float32
			for c := range b.C {
				for _, v := range b.Data[(n*b.C+c)*hw : (n*b.C+c+1)*hw] {
					s += w[k*b.C+c] * v / float32(hw)
				}
			}
			out.Logits = append(out.Logits, s)
		}
	}
	return out, nil
}

func (t toyNet) LinearHead(context.Context, string) (cam.Head, error) {
	return cam.Head{Weight: t.weights(), Classes: 2, Channels: 2}, nil
}

func ExampleCompute() {
	b := cam.Batch{N: 1, C: 2, H: 2, W: 2, Data: []float32{
		4, 0, 0, 0, // channel 0
		0, 0, 0, 1, // channel 1
	}}
	for _, name := range []string{"cam", "gradcam"} {
		m, err := cam.Lookup(name)
		if err != nil {
			fmt.Println(err)
			return
		}
		rs, err := cam.Compute(context.Background(), toyNet{}, b, m, cam.Options{})
		if err != nil {
			fmt.Println(err)
			return
		}
		r := rs[0]
		fmt.Printf("%s: class %d score %.2f raw %v normalised %.2f\n",
			name, r.Class, r.Score, r.Map.V, r.Map.Normalized().V)
	}
	// Output:
	// cam: class 0 score 0.75 raw [2 0 0 -0.5] normalised [1.00 0.20 0.20 0.00]
	// gradcam: class 0 score 0.75 raw [1 0 0 0] normalised [1.00 0.00 0.00 0.00]
}

func ExampleMap_Scoremap() {
	// The wsolevaluation pipeline: bicubic resize to the input, then
	// min-max; the cubic overshoot is normalised away.
	m := cam.Map{W: 2, H: 1, V: []float64{0, 1}}
	fmt.Printf("%.3f\n", m.Scoremap(4, 1, cam.Cubic).V)
	fmt.Printf("%.3f\n", m.Scoremap(4, 1, cam.Linear).V)
	// Output:
	// [0.000 0.274 0.726 1.000]
	// [0.000 0.250 0.750 1.000]
}

func ExampleParseTarget() {
	for _, s := range []string{"top1", "top5", "281", "dog"} {
		t, err := cam.ParseTarget(s)
		fmt.Println(t, err)
	}
	// Output:
	// top1 <nil>
	// top5 <nil>
	// 281 <nil>
	// top1 cam: bad target: "dog": want top1, topK or a class index
}

func ExampleOverlay() {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4)) // transparent black
	m := cam.Map{W: 2, H: 2, V: []float64{0, 0, 0, 1}}
	out := cam.Overlay(img, m, cam.Style{Colormap: cam.Jet, Alpha: 1})
	fmt.Println(out.Bounds(), out.NRGBAAt(0, 0), out.NRGBAAt(3, 3))
	// Output: (0,0)-(4,4) {0 0 128 255} {128 0 0 255}
}

func ExampleColormap_At() {
	fmt.Println(cam.Turbo.At(0), cam.Turbo.At(1))
	fmt.Println(cam.Viridis.At(0), cam.Viridis.At(1))
	// Output:
	// {48 18 59 255} {122 4 3 255}
	// {68 1 84 255} {253 231 37 255}
}
