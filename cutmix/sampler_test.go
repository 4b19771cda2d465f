package cutmix_test

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cutmixcam/cutmix-cam/cutmix"
	"github.com/google/go-cmp/cmp"
	"gonum.org/v1/gonum/floats/scalar"
)

func TestBox(t *testing.T) {
	// Hand-computed from the official rand_bbox: cut = int(dim*sqrt(1-lam)),
	// box [c - cut//2, c + cut//2) clipped to [0, dim).
	tests := []struct {
		name   string
		w, h   int
		lam    float64
		cx, cy int
		want   image.Rectangle
	}{
		{"quarter", 8, 8, 0.75, 4, 4, image.Rect(2, 2, 6, 6)},             // cut 4
		{"odd cut", 10, 10, 0.19, 5, 5, image.Rect(1, 1, 9, 9)},           // sqrt(.81)=.9, cut 9 -> side 8
		{"truncation", 7, 5, 0.5, 3, 2, image.Rect(1, 1, 5, 3)},           // cut 4 (4.94), 3 (3.53)
		{"clipped corner", 8, 8, 0.75, 0, 0, image.Rect(0, 0, 2, 2)},      // [-2,2)
		{"clipped far edge", 8, 6, 0.75, 7, 5, image.Rect(5, 4, 8, 6)},    // cut 4, 3 -> [5,9)x[4,6)
		{"lambda one", 8, 8, 1, 4, 4, image.Rectangle{}},                  // cut 0
		{"lambda zero", 8, 8, 0, 4, 4, image.Rect(0, 0, 8, 8)},            // cut 8
		{"non-square", 16, 4, 0.75, 8, 2, image.Rect(4, 1, 12, 3)},        // cut 8, 2
		{"lambda clamped", 8, 8, -3, 3, 3, image.Rect(0, 0, 7, 7)},        // as lam 0
		{"one pixel", 1, 1, 0, 0, 0, image.Rectangle{}},                   // cut 1, 1//2 = 0
		{"two pixels", 2, 2, 0, 1, 1, image.Rect(0, 0, 2, 2)},             // cut 2
		{"wide box clipped", 10, 10, 0.36, 9, 0, image.Rect(5, 0, 10, 4)}, // cut 8 -> [5,13)x[-4,4)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := cutmix.Box(tc.w, tc.h, tc.lam, tc.cx, tc.cy)
			if !got.Eq(tc.want) {
				t.Errorf("Box(%d, %d, %v, %d, %d) = %v, want %v", tc.w, tc.h, tc.lam, tc.cx, tc.cy, got, tc.want)
			}
		})
	}
}

// TestLambdaMoments checks the drawn λ against Beta(α, α): mean 1/2 and
// variance 1/(4(2α+1)). With n = 20000 draws the standard error of the
// mean is at most 0.0036 and that of the variance at most 0.0018; the
// tolerances are 0.012 and 0.006 (over 3 standard errors).
func TestLambdaMoments(t *testing.T) {
	const n = 20000
	for _, alpha := range []float64{0.1, 0.25, 0.5, 1, 2, 4} {
		s := cutmix.Sampler{Alpha: alpha, Src: rand.NewPCG(42, uint64(alpha*100))}
		var sum, sum2 float64
		for range n {
			d, err := s.Sample(32, 32)
			if err != nil {
				t.Fatal(err)
			}
			if d.Raw < 0 || d.Raw > 1 || math.IsNaN(d.Raw) {
				t.Fatalf("alpha %v: raw λ %v outside [0, 1]", alpha, d.Raw)
			}
			sum += d.Raw
			sum2 += d.Raw * d.Raw
		}
		mean := sum / n
		variance := sum2/n - mean*mean
		wantVar := 1 / (4 * (2*alpha + 1))
		if math.Abs(mean-0.5) > 0.012 {
			t.Errorf("alpha %v: mean λ = %v, want 0.5 ± 0.012", alpha, mean)
		}
		if math.Abs(variance-wantVar) > 0.006 {
			t.Errorf("alpha %v: var λ = %v, want %v ± 0.006", alpha, variance, wantVar)
		}
	}
}

// TestBoxGeometry checks, over many draws on several image sizes, that:
// boxes lie inside the image; λ is exactly the corrected area fraction;
// unclipped boxes (not touching the border) have sides 2·(int(dim·r)/2),
// hence within 2 pixels of dim·r, area within 2(W+H)·r of (1−λ)WH, and the
// image's aspect within 2/min(W, H).
func TestBoxGeometry(t *testing.T) {
	sizes := []image.Point{{32, 32}, {224, 224}, {64, 48}, {17, 91}, {300, 7}}
	s := cutmix.Sampler{Src: rand.NewPCG(7, 7)}
	var unclipped, clipped int
	for _, sz := range sizes {
		w, h := sz.X, sz.Y
		bounds := image.Rect(0, 0, w, h)
		for range 2000 {
			d, err := s.Sample(w, h)
			if err != nil {
				t.Fatal(err)
			}
			within(t, "box", d.Box, bounds)
			area := float64(d.Box.Dx() * d.Box.Dy())
			if want := 1 - area/float64(w*h); d.Lambda != want {
				t.Fatalf("%dx%d box %v: λ = %v, want %v exactly", w, h, d.Box, d.Lambda, want)
			}
			if d.Box.Empty() {
				continue
			}
			r := math.Sqrt(1 - d.Raw)
			inner := d.Box.Min.X > 0 && d.Box.Min.Y > 0 && d.Box.Max.X < w && d.Box.Max.Y < h
			if !inner {
				clipped++
				continue
			}
			unclipped++
			if got, want := d.Box.Dx(), 2*(int(float64(w)*r)/2); got != want {
				t.Errorf("%dx%d λ %v: width %d, want %d", w, h, d.Raw, got, want)
			}
			if got, want := d.Box.Dy(), 2*(int(float64(h)*r)/2); got != want {
				t.Errorf("%dx%d λ %v: height %d, want %d", w, h, d.Raw, got, want)
			}
			if diff := (1-d.Raw)*float64(w*h) - area; diff < 0 || diff > 2*float64(w+h)*r {
				t.Errorf("%dx%d λ %v: area %v, want (1-λ)WH = %v within 2(W+H)r", w, h, d.Raw, area, (1-d.Raw)*float64(w*h))
			}
			if diff := math.Abs(float64(d.Box.Dx())/float64(w) - float64(d.Box.Dy())/float64(h)); diff > 2/float64(min(w, h)) {
				t.Errorf("%dx%d box %v: aspect off by %v", w, h, d.Box, diff)
			}
		}
	}
	if unclipped < 1000 || clipped < 1000 {
		t.Errorf("got %d unclipped and %d clipped boxes, want both ≥ 1000", unclipped, clipped)
	}
}

func TestSampleErrors(t *testing.T) {
	tests := []struct {
		name string
		s    cutmix.Sampler
		w, h int
		want error
	}{
		{"negative alpha", cutmix.Sampler{Alpha: -1}, 8, 8, cutmix.ErrAlpha},
		{"nan alpha", cutmix.Sampler{Alpha: math.NaN()}, 8, 8, cutmix.ErrAlpha},
		{"inf alpha", cutmix.Sampler{Alpha: math.Inf(1)}, 8, 8, cutmix.ErrAlpha},
		{"negative mixup alpha", cutmix.Sampler{MixupAlpha: -0.5}, 8, 8, cutmix.ErrAlpha},
		{"empty width", cutmix.Sampler{}, 0, 8, cutmix.ErrEmpty},
		{"empty height", cutmix.Sampler{}, 8, -1, cutmix.ErrEmpty},
		{"fixed too large", cutmix.Sampler{Fixed: image.Pt(16, 16)}, 8, 32, cutmix.ErrBoxTooLarge},
		{"fixed half set", cutmix.Sampler{Fixed: image.Pt(16, 0)}, 32, 32, cutmix.ErrOption},
		{"unknown method", cutmix.Sampler{Method: 9}, 8, 8, cutmix.ErrUnknown},
		{"unknown partner", cutmix.Sampler{Partner: -1}, 8, 8, cutmix.ErrUnknown},
		{"prob above one", cutmix.Sampler{Prob: 1.5}, 8, 8, cutmix.ErrOption},
		{"progress negative", cutmix.Sampler{Scheduled: true, Progress: -0.1}, 8, 8, cutmix.ErrOption},
		{"minmax reversed", cutmix.Sampler{MinMax: [2]float64{0.8, 0.2}}, 8, 8, cutmix.ErrOption},
		{"minmax above one", cutmix.Sampler{MinMax: [2]float64{0.2, 1.2}}, 8, 8, cutmix.ErrOption},
		{"negative sigma", cutmix.Sampler{Center: cutmix.CenterGaussian, Sigma: -1}, 8, 8, cutmix.ErrOption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.Sample(tc.w, tc.h)
			if !errors.Is(err, tc.want) {
				t.Errorf("Sample(%d, %d) error = %v, want %v", tc.w, tc.h, err, tc.want)
			}
		})
	}
}

func TestVariants(t *testing.T) {
	const n = 4000
	t.Run("fixed", func(t *testing.T) {
		s := cutmix.Sampler{Fixed: image.Pt(16, 16), Src: rand.NewPCG(1, 2)}
		seen := map[image.Point]bool{}
		for range n {
			d, err := s.Sample(32, 32)
			if err != nil {
				t.Fatal(err)
			}
			if d.Box.Dx() != 16 || d.Box.Dy() != 16 || d.Lambda != 0.75 || d.Weight != 0.75 {
				t.Fatalf("fixed 16x16 in 32x32: box %v λ %v weight %v, want 16x16 and 0.75", d.Box, d.Lambda, d.Weight)
			}
			within(t, "box", d.Box, image.Rect(0, 0, 32, 32))
			seen[d.Box.Min] = true
		}
		if len(seen) != 17*17 {
			t.Errorf("fixed box used %d origins, want all 289", len(seen))
		}
	})
	t.Run("minmax", func(t *testing.T) {
		// 4x4 image, fractions (0.5, 0.75): cut = randint(2, 3) = 2;
		// origin randint(0, 2) in timm's snapshot, never 2.
		for _, inclusive := range []bool{false, true} {
			s := cutmix.Sampler{MinMax: [2]float64{0.5, 0.75}, InclusiveOrigin: inclusive, Src: rand.NewPCG(3, 4)}
			maxOrigin := 0
			for range n {
				d, err := s.Sample(4, 4)
				if err != nil {
					t.Fatal(err)
				}
				if d.Box.Dx() != 2 || d.Box.Dy() != 2 || d.Lambda != 0.75 {
					t.Fatalf("minmax box %v λ %v, want 2x2 and 0.75", d.Box, d.Lambda)
				}
				maxOrigin = max(maxOrigin, d.Box.Min.X, d.Box.Min.Y)
			}
			want := 1
			if inclusive {
				want = 2
			}
			if maxOrigin != want {
				t.Errorf("minmax inclusive=%v: largest origin %d, want %d", inclusive, maxOrigin, want)
			}
		}
	})
	t.Run("scheduled", func(t *testing.T) {
		for _, p := range []float64{0, 0.3, 1} {
			s := cutmix.Sampler{Scheduled: true, Progress: p, Src: rand.NewPCG(5, 6)}
			applied := 0
			for range n {
				d, _ := s.Sample(16, 16)
				if d.Applied {
					applied++
				} else if d.Lambda != 1 || !d.Box.Empty() {
					t.Fatalf("skipped draw %+v, want λ 1 and no box", d)
				}
			}
			// Binomial sd at n = 4000 is at most 0.008; tolerance 0.03.
			if got := float64(applied) / n; math.Abs(got-p) > 0.03 {
				t.Errorf("scheduled progress %v: applied %v of draws, want %v ± 0.03", p, got, p)
			}
		}
	})
	t.Run("switch", func(t *testing.T) {
		s := cutmix.Sampler{SwitchProb: 0.5, Src: rand.NewPCG(8, 9)}
		mix := 0
		for range n {
			d, _ := s.Sample(16, 16)
			if d.Method == cutmix.Mixup {
				mix++
				if !d.Box.Empty() || d.Lambda != d.Raw {
					t.Fatalf("mixup draw %+v has a box or corrected λ", d)
				}
			}
		}
		if got := float64(mix) / n; math.Abs(got-0.5) > 0.03 {
			t.Errorf("switch 0.5: mixup share %v, want 0.5 ± 0.03", got)
		}
	})
	t.Run("labels", func(t *testing.T) {
		for _, tc := range []struct {
			label cutmix.Label
			want  func(lam float64) float64
		}{
			{cutmix.LabelArea, func(l float64) float64 { return l }},
			{cutmix.LabelOneHot, func(l float64) float64 { return map[bool]float64{true: 1, false: 0}[l >= 0.5] }},
			{cutmix.LabelComplete, func(float64) float64 { return 0.5 }},
		} {
			s := cutmix.Sampler{Label: tc.label, Src: rand.NewPCG(10, 11)}
			for range 200 {
				d, _ := s.Sample(20, 20)
				if got := tc.want(d.Lambda); d.Weight != got {
					t.Fatalf("label %v: weight %v at λ %v, want %v", tc.label, d.Weight, d.Lambda, got)
				}
			}
		}
	})
	t.Run("raw lambda", func(t *testing.T) {
		s := cutmix.Sampler{RawLambda: true, Src: rand.NewPCG(12, 13)}
		for range 200 {
			d, _ := s.Sample(20, 20)
			if d.Lambda != d.Raw {
				t.Fatalf("raw λ: Lambda %v, Raw %v", d.Lambda, d.Raw)
			}
		}
	})
	t.Run("center gaussian", func(t *testing.T) {
		// Small boxes (λ near 1 at α = 0.05 most of the time is not
		// guaranteed), so measure centres of unclipped boxes with a
		// small sigma: their mean is W/2 ± 1 and sd about Sigma·W.
		s := cutmix.Sampler{Center: cutmix.CenterGaussian, Sigma: 0.05, Fixed: image.Point{}, Alpha: 200, Src: rand.NewPCG(14, 15)}
		var sum, sum2, m float64
		for range n {
			d, _ := s.Sample(400, 400)
			if d.Box.Min.X == 0 || d.Box.Max.X == 400 || d.Box.Empty() {
				continue
			}
			c := float64(d.Box.Min.X+d.Box.Max.X) / 2
			sum += c
			sum2 += c * c
			m++
		}
		mean := sum / m
		sd := math.Sqrt(sum2/m - mean*mean)
		if m < n/2 || math.Abs(mean-200) > 1.5 || math.Abs(sd-20) > 2 {
			t.Errorf("gaussian centres: n %v mean %v sd %v, want mean 200 ± 1.5, sd 20 ± 2", m, mean, sd)
		}
	})
}

func TestPlanPartners(t *testing.T) {
	tests := []struct {
		name    string
		partner cutmix.Partner
		mode    cutmix.Mode
		n       int
		want    []int // nil: check structure only
	}{
		{"flip batch", cutmix.PartnerFlip, cutmix.ModeBatch, 5, []int{4, 3, 2, 1, 0}},
		{"flip pair", cutmix.PartnerFlip, cutmix.ModePair, 4, []int{3, 2, 1, 0}},
		{"roll batch", cutmix.PartnerRoll, cutmix.ModeBatch, 4, []int{3, 0, 1, 2}},
		{"roll elem", cutmix.PartnerRoll, cutmix.ModeElem, 1, []int{0}},
		{"permutation batch", cutmix.PartnerPermutation, cutmix.ModeBatch, 9, nil},
		{"permutation pair", cutmix.PartnerPermutation, cutmix.ModePair, 8, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := cutmix.Sampler{Partner: tc.partner, Mode: tc.mode, Src: rand.NewPCG(1, 1)}
			draws := make([]cutmix.Draw, tc.n)
			if err := s.Plan(draws, 16, 16); err != nil {
				t.Fatal(err)
			}
			got := make([]int, tc.n)
			for i, d := range draws {
				got[i] = d.Partner
			}
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("partners (-want +got):\n%s", diff)
				}
				return
			}
			seen := make([]bool, tc.n)
			for _, p := range got {
				if seen[p] {
					t.Fatalf("partners %v not a permutation", got)
				}
				seen[p] = true
			}
			if tc.mode == cutmix.ModePair {
				for i, p := range got {
					if p == i || got[p] != i {
						t.Fatalf("pair partners %v not a perfect matching", got)
					}
				}
			}
		})
	}
}

func TestPlanModes(t *testing.T) {
	const n = 8
	for _, mode := range []cutmix.Mode{cutmix.ModeBatch, cutmix.ModePair, cutmix.ModeElem} {
		t.Run(mode.String(), func(t *testing.T) {
			s := cutmix.Sampler{Mode: mode, Partner: cutmix.PartnerFlip, Src: rand.NewPCG(2, 3)}
			draws := make([]cutmix.Draw, n)
			if err := s.Plan(draws, 64, 64); err != nil {
				t.Fatal(err)
			}
			distinct := map[image.Rectangle]bool{}
			for i, d := range draws {
				distinct[d.Box] = true
				p := draws[d.Partner]
				if mode == cutmix.ModePair && (p.Box != d.Box || p.Lambda != d.Lambda) {
					t.Errorf("pair %d-%d: boxes %v %v, λ %v %v, want equal", i, d.Partner, d.Box, p.Box, d.Lambda, p.Lambda)
				}
			}
			want := map[cutmix.Mode]int{cutmix.ModeBatch: 1, cutmix.ModePair: n / 2, cutmix.ModeElem: n}[mode]
			if len(distinct) != want {
				t.Errorf("mode %v: %d distinct boxes, want %d", mode, len(distinct), want)
			}
		})
	}
	t.Run("pair errors", func(t *testing.T) {
		for _, tc := range []struct {
			p cutmix.Partner
			n int
		}{{cutmix.PartnerFlip, 3}, {cutmix.PartnerRoll, 4}} {
			s := cutmix.Sampler{Mode: cutmix.ModePair, Partner: tc.p}
			if err := s.Plan(make([]cutmix.Draw, tc.n), 8, 8); !errors.Is(err, cutmix.ErrPair) {
				t.Errorf("Plan pair %v n=%d error = %v, want ErrPair", tc.p, tc.n, err)
			}
		}
	})
}

func TestApplyByHand(t *testing.T) {
	// Two 1-channel 4x4 images: image 0 holds 0..15, image 1 holds 100..115.
	shape := cutmix.Shape{N: 2, C: 1, H: 4, W: 4}
	src := make([]float32, shape.Len())
	for i := range 16 {
		src[i] = float32(i)
		src[16+i] = float32(100 + i)
	}
	box := image.Rect(1, 1, 3, 3)
	tests := []struct {
		name  string
		draws []cutmix.Draw
		want0 []float32
	}{
		{"cutmix", []cutmix.Draw{{Method: cutmix.CutMix, Applied: true, Partner: 1, Box: box}, {Partner: 0}}, []float32{
			0, 1, 2, 3,
			4, 105, 106, 7,
			8, 109, 110, 11,
			12, 13, 14, 15,
		}},
		{"cutmix clipped box", []cutmix.Draw{{Method: cutmix.CutMix, Applied: true, Partner: 1, Box: image.Rect(3, -2, 9, 1)}, {}}, []float32{
			0, 1, 2, 103,
			4, 5, 6, 7,
			8, 9, 10, 11,
			12, 13, 14, 15,
		}},
		{"not applied", []cutmix.Draw{{Method: cutmix.CutMix, Partner: 1, Box: box}, {}}, []float32{
			0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		}},
		{"mixup", []cutmix.Draw{{Method: cutmix.Mixup, Applied: true, Partner: 1, Lambda: 0.75}, {}}, []float32{
			25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
		}},
		{"cutout zero", []cutmix.Draw{{Method: cutmix.Cutout, Applied: true, Partner: 1, Box: box}, {}}, []float32{
			0, 1, 2, 3,
			4, 0, 0, 7,
			8, 0, 0, 11,
			12, 13, 14, 15,
		}},
		{"cutout mean", []cutmix.Draw{{Method: cutmix.Cutout, Applied: true, Box: box, Fill: cutmix.FillMean}, {}}, []float32{
			0, 1, 2, 3,
			4, 7.5, 7.5, 7,
			8, 7.5, 7.5, 11,
			12, 13, 14, 15,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]float32, shape.Len())
			before := append([]float32(nil), src...)
			if err := cutmix.Apply(dst, src, shape, tc.draws); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want0, dst[:16]); diff != "" {
				t.Errorf("image 0 (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, src); diff != "" {
				t.Errorf("src modified (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("noise", func(t *testing.T) {
		d := []cutmix.Draw{{Method: cutmix.Cutout, Applied: true, Box: box, Fill: cutmix.FillNoise, Seed: 9}, {}}
		a, b := make([]float32, shape.Len()), make([]float32, shape.Len())
		_ = cutmix.Apply(a, src, shape, d)
		_ = cutmix.Apply(b, src, shape, d)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("noise fill differs between runs:\n%s", diff)
		}
		for y := 1; y < 3; y++ {
			for x := 1; x < 3; x++ {
				if v := a[y*4+x]; v < 0 || v >= 1 || v == src[y*4+x] {
					t.Errorf("noise at (%d, %d) = %v, want fresh value in [0, 1)", x, y, v)
				}
			}
		}
	})
}

func TestApplyErrors(t *testing.T) {
	shape := cutmix.Shape{N: 2, C: 3, H: 4, W: 4}
	good := make([]float32, shape.Len())
	draws := make([]cutmix.Draw, 2)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"empty shape", cutmix.Apply(nil, nil, cutmix.Shape{N: 1, C: 3}, draws[:1]), cutmix.ErrEmpty},
		{"short src", cutmix.Apply(good, good[:5], shape, draws), cutmix.ErrShape},
		{"short dst", cutmix.Apply(good[:5], good, shape, draws), cutmix.ErrShape},
		{"draw count", cutmix.Apply(make([]float32, shape.Len()), good, shape, draws[:1]), cutmix.ErrShape},
		{"partner index", cutmix.Apply(make([]float32, shape.Len()), good, shape, []cutmix.Draw{{Partner: 2}, {}}), cutmix.ErrShape},
		{"pair channels", cutmix.ApplyPair(make([]float32, shape.Len()), good, good[:32], shape, cutmix.Shape{N: 2, C: 1, H: 4, W: 4}, draws), cutmix.ErrChannels},
		{"pair size", cutmix.ApplyPair(make([]float32, shape.Len()), good, good, shape, cutmix.Shape{N: 2, C: 3, H: 2, W: 8}, draws), cutmix.ErrShape},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("error = %v, want %v", tc.err, tc.want)
			}
		})
	}
	var se *cutmix.ShapeError
	err := cutmix.ApplyPair(make([]float32, shape.Len()), good, good[:32], shape, cutmix.Shape{N: 2, C: 1, H: 4, W: 4}, draws)
	if !errors.As(err, &se) || se.Got.C != 1 || se.Want.C != 3 {
		t.Errorf("ApplyPair channel error = %#v, want *ShapeError with C 1 vs 3", err)
	}
}

func TestApplyPair(t *testing.T) {
	shape := cutmix.Shape{N: 1, C: 2, H: 2, W: 3}
	a := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	b := []float32{-1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12}
	dst := make([]float32, 12)
	d := []cutmix.Draw{{Method: cutmix.CutMix, Applied: true, Partner: 5, Box: image.Rect(1, 0, 3, 1)}}
	if err := cutmix.ApplyPair(dst, a, b, shape, shape, d); err != nil {
		t.Fatal(err)
	}
	want := []float32{1, -2, -3, 4, 5, 6, 7, -8, -9, 10, 11, 12}
	if diff := cmp.Diff(want, dst); diff != "" {
		t.Errorf("ApplyPair (-want +got):\n%s", diff)
	}
}

func TestLabels(t *testing.T) {
	draws := []cutmix.Draw{
		{Applied: true, Partner: 1, Weight: 0.75},
		{Applied: true, Partner: 0, Weight: 0.75},
		{Applied: false, Partner: 0, Weight: 0},
	}
	dst := make([]float32, 9)
	if err := cutmix.Labels(dst, []int{0, 2, 1}, 3, draws, 0.3); err != nil {
		t.Fatal(err)
	}
	// off = 0.1, gain 0.7: 0.1 + 0.7·0.75 = 0.625, 0.1 + 0.7·0.25 = 0.275.
	want := []float32{
		0.625, 0.1, 0.275,
		0.275, 0.1, 0.625,
		0.1, 0.8, 0.1,
	}
	if diff := cmp.Diff(want, dst, cmp.Comparer(func(a, b float32) bool {
		return scalar.EqualWithinAbs(float64(a), float64(b), 1e-6)
	})); diff != "" {
		t.Errorf("Labels (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name    string
		classes []int
		k       int
		s       float64
		want    error
	}{
		{"class out of range", []int{0, 3, 1}, 3, 0, cutmix.ErrClass},
		{"negative class", []int{0, -1, 1}, 3, 0, cutmix.ErrClass},
		{"short classes", []int{0, 1}, 3, 0, cutmix.ErrShape},
		{"bad smoothing", []int{0, 1, 2}, 3, -0.1, cutmix.ErrOption},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := cutmix.Labels(make([]float32, 9), tc.classes, tc.k, draws, tc.s); !errors.Is(err, tc.want) {
				t.Errorf("Labels error = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestLabelsSumToOne checks the label rows of sampled plans sum to 1
// within 1e-5 (float32) for every mode, label rule and smoothing.
func TestLabelsSumToOne(t *testing.T) {
	const n, k = 16, 10
	classes := make([]int, n)
	for i := range classes {
		classes[i] = i * 7 % k
	}
	for _, mode := range []cutmix.Mode{cutmix.ModeBatch, cutmix.ModePair, cutmix.ModeElem} {
		for _, label := range []cutmix.Label{cutmix.LabelArea, cutmix.LabelOneHot, cutmix.LabelComplete} {
			for _, smooth := range []float64{0, 0.1} {
				s := cutmix.Sampler{Mode: mode, Label: label, SwitchProb: 0.3, Prob: 0.8, Src: rand.NewPCG(uint64(mode), uint64(label))}
				draws := make([]cutmix.Draw, n)
				if err := s.Plan(draws, 32, 32); err != nil {
					t.Fatal(err)
				}
				dst := make([]float32, n*k)
				if err := cutmix.Labels(dst, classes, k, draws, smooth); err != nil {
					t.Fatal(err)
				}
				for i := range n {
					var sum float64
					for _, v := range dst[i*k : (i+1)*k] {
						sum += float64(v)
					}
					if math.Abs(sum-1) > 1e-5 {
						t.Errorf("mode %v label %v smoothing %v: row %d sums to %v, want 1", mode, label, smooth, i, sum)
					}
				}
			}
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want cutmix.Method
		err  error
	}{
		{"cutmix", cutmix.CutMix, nil},
		{"CutMix", cutmix.CutMix, nil},
		{"cut-mix", cutmix.CutMix, nil},
		{"mixup", cutmix.Mixup, nil},
		{"cutout", cutmix.Cutout, nil},
		{"snapmix", 0, cutmix.ErrUnknown},
		{"", 0, cutmix.ErrUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := cutmix.ParseMethod(tc.in)
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("ParseMethod(%q) = %v, %v, want %v, %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
	if p, err := cutmix.ParsePartner("flip"); p != cutmix.PartnerFlip || err != nil {
		t.Errorf("ParsePartner(flip) = %v, %v", p, err)
	}
	if m, err := cutmix.ParseMode("ELEM"); m != cutmix.ModeElem || err != nil {
		t.Errorf("ParseMode(ELEM) = %v, %v", m, err)
	}
	if l, err := cutmix.ParseLabel("one-hot"); l != cutmix.LabelOneHot || err != nil {
		t.Errorf("ParseLabel(one-hot) = %v, %v", l, err)
	}
	if f, err := cutmix.ParseFill("noise"); f != cutmix.FillNoise || err != nil {
		t.Errorf("ParseFill(noise) = %v, %v", f, err)
	}
	if c, err := cutmix.ParseCenter("gaussian"); c != cutmix.CenterGaussian || err != nil {
		t.Errorf("ParseCenter(gaussian) = %v, %v", c, err)
	}
	if f, err := cutmix.ParseFit("fill"); f != cutmix.FitFill || err != nil {
		t.Errorf("ParseFit(fill) = %v, %v", f, err)
	}
}

func TestPlanAllocs(t *testing.T) {
	shape := cutmix.Shape{N: 64, C: 3, H: 8, W: 8}
	src := noiseBatch(shape.Len(), 1)
	dst := make([]float32, shape.Len())
	draws := make([]cutmix.Draw, 64)
	for _, s := range []cutmix.Sampler{
		{Mode: cutmix.ModeElem, SwitchProb: 0.5},
		{Mode: cutmix.ModePair, Partner: cutmix.PartnerPermutation},
		{Method: cutmix.Cutout, Mode: cutmix.ModeElem, Fill: cutmix.FillNoise},
		{Method: cutmix.Cutout, Fill: cutmix.FillMean, Center: cutmix.CenterGaussian},
		{MinMax: [2]float64{0.2, 0.8}, Mode: cutmix.ModeElem},
	} {
		s.Src = rand.NewPCG(1, 2)
		allocs := testing.AllocsPerRun(20, func() {
			if err := s.Plan(draws, 8, 8); err != nil {
				t.Fatal(err)
			}
			if err := cutmix.Apply(dst, src, shape, draws); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Plan+Apply with %+v allocate %v times per call, want 0", s, allocs)
		}
	}
}

// naiveApply is a per-pixel reference for Apply (CutMix, Mixup, zero and
// mean Cutout).
func naiveApply(src []float32, s cutmix.Shape, draws []cutmix.Draw) []float32 {
	out := make([]float32, s.Len())
	at := func(n, c, y, x int) int { return ((n*s.C+c)*s.H+y)*s.W + x }
	for i, d := range draws {
		box := d.Box.Intersect(image.Rect(0, 0, s.W, s.H))
		for c := range s.C {
			var mean float64
			for y := range s.H {
				for x := range s.W {
					mean += float64(src[at(i, c, y, x)])
				}
			}
			mean /= float64(s.H * s.W)
			for y := range s.H {
				for x := range s.W {
					v := src[at(i, c, y, x)]
					in := image.Pt(x, y).In(box)
					switch {
					case !d.Applied:
					case d.Method == cutmix.Mixup:
						l := float32(d.Lambda)
						v = l*v + (1-l)*src[at(d.Partner, c, y, x)]
					case d.Method == cutmix.CutMix && in:
						v = src[at(d.Partner, c, y, x)]
					case d.Method == cutmix.Cutout && in && d.Fill == cutmix.FillZero:
						v = 0
					case d.Method == cutmix.Cutout && in && d.Fill == cutmix.FillMean:
						v = float32(mean)
					}
					out[at(i, c, y, x)] = v
				}
			}
		}
	}
	return out
}

// TestApplyMatchesNaive compares Apply with a per-pixel reference on
// sampled plans with small boxes (bulk copy path) and large boxes (row
// segment path), for every mode and method.
func TestApplyMatchesNaive(t *testing.T) {
	shape := cutmix.Shape{N: 6, C: 3, H: 16, W: 20}
	src := noiseBatch(shape.Len(), 3)
	for _, fixed := range []image.Point{{4, 3}, {18, 15}, {}} {
		for _, mode := range []cutmix.Mode{cutmix.ModeBatch, cutmix.ModePair, cutmix.ModeElem} {
			for _, method := range []cutmix.Method{cutmix.CutMix, cutmix.Mixup, cutmix.Cutout} {
				for _, fill := range []cutmix.Fill{cutmix.FillZero, cutmix.FillMean} {
					s := cutmix.Sampler{Method: method, Mode: mode, Fixed: fixed, Fill: fill, Prob: 0.8, Partner: cutmix.PartnerFlip, Src: rand.NewPCG(uint64(mode), uint64(method))}
					draws := make([]cutmix.Draw, shape.N)
					if err := s.Plan(draws, shape.W, shape.H); err != nil {
						t.Fatal(err)
					}
					got := make([]float32, shape.Len())
					if err := cutmix.Apply(got, src, shape, draws); err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(naiveApply(src, shape, draws), got, cmp.Comparer(func(a, b float32) bool {
						return math.Abs(float64(a-b)) <= 1e-6
					})); diff != "" {
						t.Errorf("fixed %v mode %v method %v fill %v (-naive +Apply):\n%s", fixed, mode, method, fill, diff)
					}
				}
			}
		}
	}
}
