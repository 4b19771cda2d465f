package robust_test

import (
	"context"
	"fmt"

	"github.com/cutmixcam/cutmix-cam/robust"
)

// The 2-class model of 1×1×3 images with W = [[1, −1, 0], [−1, 1, 0]]:
// the gradient of CE for class 0 has signs (−1, +1, 0), so FGSM darkens
// pixel 0, brightens pixel 1 (clipped at 1) and leaves pixel 2, whose
// gradient is 0, alone.
func ExampleFGSM_Perturb() {
	m := handModel()
	x := robust.Batch{Data: []float32{0.5, 1, 0.25}, N: 1, C: 1, H: 1, W: 3}
	adv, err := robust.FGSM{Epsilon: 8.0 / 255}.Perturb(context.Background(), m, x, []int{0})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, v := range adv.Data {
		fmt.Printf("pixel %d: %.4f -> %.4f (%+.0f/255)\n", i, x.Data[i], v, (v-x.Data[i])*255)
	}
	// Output:
	// pixel 0: 0.5000 -> 0.4686 (-8/255)
	// pixel 1: 1.0000 -> 1.0000 (+0/255)
	// pixel 2: 0.2500 -> 0.2500 (+0/255)
}

func ExampleParseEpsilons() {
	eps, err := robust.ParseEpsilons("1/255, 2/255,4/255,8/255,0.05")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range eps {
		fmt.Printf("%.6f = %g/255\n", e, e*255)
	}
	_, err = robust.ParseEpsilons("8/255,0")
	fmt.Println(err)
	// Output:
	// 0.003922 = 1/255
	// 0.007843 = 2/255
	// 0.015686 = 4/255
	// 0.031373 = 8/255
	// 0.050000 = 12.75/255
	// parse epsilon "0" = 0: robust: epsilon must be in (0, 1]
}

func ExampleParsePGD() {
	p, err := robust.ParsePGD("eps=8/255,step=2/255,steps=10")
	fmt.Printf("%.4f %.4f %d %v %v\n", p.Epsilon, p.Step, p.Steps, !p.NoRandomStart, err)
	_, err = robust.ParsePGD("steps=0")
	fmt.Println(err)
	// Output:
	// 0.0314 0.0078 10 true <nil>
	// parse pgd steps 0: robust: steps must be at least 1
}

// Holes on a 224-pixel input over the default 14-step grid are the
// paper's 0, 16, 32, … 224; a 32-pixel input scales them.
func ExampleHole() {
	for _, k := range []int{0, 1, 7, 14} {
		fmt.Println(robust.Hole(224, 224, k, robust.DefaultGridSteps), robust.Hole(32, 32, k, robust.DefaultGridSteps))
	}
	// Output:
	// (112,112)-(112,112) (16,16)-(16,16)
	// (104,104)-(120,120) (15,15)-(17,17)
	// (56,56)-(168,168) (8,8)-(24,24)
	// (0,0)-(224,224) (0,0)-(32,32)
}

func ExampleEvaluate() {
	m := randomLinear(4, 3, 8, 8, 41)
	d := randomData(m, 10, 0, 1, 42)
	r, err := robust.Evaluate(context.Background(), m, d, robust.Config{
		Epsilons:  []float64{1.0 / 255, 8.0 / 255},
		Occlusion: robust.Occlusion{Steps: 2},
		Between:   robust.Between{Steps: 2},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("clean accuracy %.2f\n", r.FGSM.CleanAccuracy)
	for _, p := range r.FGSM.Points {
		fmt.Printf("fgsm ε=%g/255: accuracy %.2f, success rate %.2f\n", p.Epsilon255, p.Accuracy, p.SuccessRate)
	}
	for _, c := range r.Occlusion.Curves {
		fmt.Printf("%s occlusion error:", c.Occluder)
		for _, p := range c.Points {
			fmt.Printf(" s=%d:%.1f", p.HoleWidth, p.Error)
		}
		fmt.Println()
	}
	for _, c := range r.Between.Curves {
		fmt.Printf("%s neither-class error:", c.Mix)
		for _, p := range c.Points {
			fmt.Printf(" λ=%.2f:%.1f", p.Lambda, p.Error)
		}
		fmt.Println()
	}
	// Output:
	// clean accuracy 0.50
	// fgsm ε=1/255: accuracy 0.40, success rate 0.20
	// fgsm ε=8/255: accuracy 0.00, success rate 1.00
	// center occlusion error: s=0:0.5 s=4:0.8 s=8:0.7
	// boundary occlusion error: s=0:0.7 s=4:0.8 s=8:0.5
	// mixup neither-class error: λ=0.00:0.3 λ=0.50:0.4 λ=1.00:0.3
	// cutmix neither-class error: λ=0.00:0.3 λ=0.75:0.4 λ=1.00:0.3
}
