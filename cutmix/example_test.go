package cutmix_test

import (
	"fmt"
	"image"
	"math/rand/v2"

	"github.com/cutmixcam/cutmix-cam/cutmix"
)

// The official box for a 224×224 image, λ = 0.75 and centre (100, 30):
// side int(224·0.5) = 112, clipped at the top edge, λ corrected.
func ExampleBox() {
	box := cutmix.Box(224, 224, 0.75, 100, 30)
	lam := 1 - float64(box.Dx()*box.Dy())/(224*224)
	fmt.Printf("%v %.4f\n", box, lam)
	// Output: (44,0)-(156,86) 0.8080
}

func ExampleSampler_Sample() {
	s := cutmix.Sampler{Alpha: 1, Src: rand.NewPCG(1, 2)}
	for range 3 {
		d, err := s.Sample(32, 32)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%v box %v λ %.4f (drawn %.4f)\n", d.Method, d.Box, d.Lambda, d.Raw)
	}
	// Output:
	// CutMix box (21,3)-(31,13) λ 0.9023 (drawn 0.8971)
	// CutMix box (5,16)-(23,32) λ 0.7188 (drawn 0.6332)
	// CutMix box (0,3)-(22,27) λ 0.4844 (drawn 0.3758)
}

func ExampleMix() {
	target := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for i := range target.Pix {
		target.Pix[i] = 255 // white
	}
	partner := image.NewNRGBA(image.Rect(0, 0, 8, 8)) // transparent black, resized to 4×4
	out, err := cutmix.Mix(target, partner, image.Rect(1, 1, 3, 3))
	if err != nil {
		fmt.Println(err)
		return
	}
	for y := range 4 {
		fmt.Println(out.NRGBAAt(0, y).R, out.NRGBAAt(1, y).R, out.NRGBAAt(2, y).R, out.NRGBAAt(3, y).R)
	}
	// Output:
	// 255 255 255 255
	// 255 0 0 255
	// 255 0 0 255
	// 255 255 255 255
}

// Mixing a float32 NCHW batch in caller memory: Plan draws, Apply mixes,
// Labels writes the soft targets.
func ExampleApply() {
	shape := cutmix.Shape{N: 2, C: 1, H: 4, W: 4}
	src := make([]float32, shape.Len())
	for i := range 16 {
		src[16+i] = 1 // image 0 is zeros, image 1 is ones
	}
	s := cutmix.Sampler{Partner: cutmix.PartnerFlip, Fixed: image.Pt(2, 2), Src: rand.NewPCG(3, 4)}
	draws := make([]cutmix.Draw, shape.N)
	if err := s.Plan(draws, shape.W, shape.H); err != nil {
		fmt.Println(err)
		return
	}
	dst := make([]float32, shape.Len())
	if err := cutmix.Apply(dst, src, shape, draws); err != nil {
		fmt.Println(err)
		return
	}
	labels := make([]float32, 2*3)
	if err := cutmix.Labels(labels, []int{0, 2}, 3, draws, 0); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("box", draws[0].Box, "λ", draws[0].Lambda)
	fmt.Println(dst[:16])
	fmt.Println(labels)
	// Output:
	// box (2,2)-(4,4) λ 0.75
	// [0 0 0 0 0 0 0 0 0 0 1 1 0 0 1 1]
	// [0.75 0 0.25 0.25 0 0.75]
}

func ExampleBetween() {
	a := cutmix.Source{ID: "cat.png", Class: 281, Image: image.NewNRGBA(image.Rect(0, 0, 224, 224))}
	b := cutmix.Source{ID: "dog.png", Class: 207, Image: image.NewNRGBA(image.Rect(0, 0, 224, 224))}
	set, err := cutmix.Between(a, b, []int{0, 56, 112, 224}, cutmix.FitStretch)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range set.Manifest.Probes {
		fmt.Printf("%s box %v λ(%s) %.4f\n", r.Variant, r.Box, r.Target.ID, r.Lambda)
	}
	// Output:
	// between(s=0) box [0 0 0 0] λ(dog.png) 1.0000
	// between(s=56) box [84 84 140 140] λ(dog.png) 0.9375
	// between(s=112) box [56 56 168 168] λ(dog.png) 0.7500
	// between(s=224) box [0 0 224 224] λ(dog.png) 0.0000
}

func ExampleProbes() {
	src := []cutmix.Source{
		{ID: "a", Class: 0, Image: image.NewNRGBA(image.Rect(0, 0, 64, 48))},
		{ID: "b", Class: 1, Image: image.NewNRGBA(image.Rect(0, 0, 64, 48))},
	}
	set, err := cutmix.Probes(src, cutmix.Probe{Seed: 7, Count: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range set.Manifest.Probes {
		fmt.Printf("%s: %s(%d) with %s(%d) in %v, λ %.4f\n", r.File, r.Target.ID, r.Target.Class, r.Partner.ID, r.Partner.Class, r.Box, r.Lambda)
	}
	// Output:
	// probe_00000.png: a(0) with b(1) in [53 1 64 15], λ 0.9499
	// probe_00001.png: b(1) with a(0) in [35 0 64 27], λ 0.7451
}

func ExampleParseMethod() {
	m, err := cutmix.ParseMethod("mixup")
	fmt.Println(m, err)
	_, err = cutmix.ParseMethod("snapmix")
	fmt.Println(err)
	// Output:
	// Mixup <nil>
	// parse method "snapmix": cutmix: unknown name
}

// The three partner rules on a batch of four: flip (timm) and roll
// (torchvision) are fixed; permutation (official) is random.
func ExampleSampler_Plan() {
	for _, p := range []cutmix.Partner{cutmix.PartnerFlip, cutmix.PartnerRoll} {
		s := cutmix.Sampler{Partner: p, Src: rand.NewPCG(1, 1)}
		draws := make([]cutmix.Draw, 4)
		if err := s.Plan(draws, 32, 32); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Print(p, ":")
		for _, d := range draws {
			fmt.Print(" ", d.Partner)
		}
		fmt.Println()
	}
	// Output:
	// Flip: 3 2 1 0
	// Roll: 3 0 1 2
}
