package cam

import (
	"context"
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
)

// Hand-computed case: 2 channels of 2×2.
var (
	handA = []float32{1, 2, 3, 4 /* c0 */, 2, 0, 1, 1 /* c1 */}
	handG = []float32{0.5, 0.5, -0.5, 0.5 /* c0 */, 1, -1, 0, -2 /* c1 */}
)

func closeAll(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len = %d, want %d", name, len(got), len(want))
	}
	for i := range got {
		if !scalar.EqualWithinAbsOrRel(got[i], want[i], tol, tol) {
			t.Errorf("%s[%d] = %v, want %v", name, i, got[i], want[i])
		}
	}
}

func TestGradFamilyHand(t *testing.T) {
	tests := []struct {
		name string
		f    gradFunc
		want []float64
	}{
		// w = (0.25, -0.5): 0.25·c0 − 0.5·c1 = (−0.75, 0.5, 0.25, 0.5), ReLU.
		{"gradcam", gradCAMMap, []float64{0, 0.5, 0.25, 0.5}},
		// w0 = 3·0.5·0.25/(0.5+10·0.125) = 3/14, w1 = 1/(2+4) = 1/6.
		{"gradcam++", gradCAMPPMap, []float64{23.0 / 42, 18.0 / 42, 34.0 / 42, 43.0 / 42}},
		// w0 = Σg·a/Σa = 2/10, w1 = 0/4.
		{"xgradcam", xGradCAMMap, []float64{0.2, 0.4, 0.6, 0.8}},
		// Σ_c g·a = (2.5, 1, −1.5, 0), ReLU.
		{"hirescam", hiResCAMMap, []float64{2.5, 1, 0, 0}},
		// Σ_c max(g,0)·a = (2.5, 1, 0, 2).
		{"layercam", layerCAMMap, []float64{2.5, 1, 0, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]float64, 4)
			tc.f(got, handA, handG, 2, 2, 2)
			closeAll(t, tc.name, got, tc.want, 1e-6)
		})
	}
}

func TestHeadMethodsHand(t *testing.T) {
	wk := []float32{1, -3}
	tests := []struct {
		name  string
		f     headFunc
		score float64
		want  []float64
	}{
		// mean_c: (c0 − 3·c1)/2, no ReLU.
		{"cam", camMap, 0, []float64{-2.5, 1, 0, 0.5}},
		// min(a) = 0 → fill 0; w = (1·2.5/2, −3·1/2) = (1.25, −1.5).
		{"ablationcam", ablationMap, 2, []float64{0, 2.5, 2.25, 3.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]float64, 4)
			tc.f(got, handA, wk, tc.score, 2, 4)
			closeAll(t, tc.name, got, tc.want, 1e-9)
		})
	}
}

func TestEigenHand(t *testing.T) {
	// Rank one: c1 = 2·c0, so the projection is √5·(c0 − mean c0).
	a := []float32{1, 2, 3, 4, 2, 4, 6, 8}
	got := make([]float64, 4)
	principal(got, a, 2, 4)
	r5 := math.Sqrt(5)
	closeAll(t, "principal", got, []float64{-1.5 * r5, -0.5 * r5, 0.5 * r5, 1.5 * r5}, 1e-9)

	// The sign follows the channel mean even when the data is mirrored.
	b := []float32{4, 3, 2, 1, 8, 6, 4, 2}
	principal(got, b, 2, 4)
	closeAll(t, "principal mirrored", got, []float64{1.5 * r5, 0.5 * r5, -0.5 * r5, -1.5 * r5}, 1e-9)

	// EigenGrad-CAM projects g·a: with g = 1 it is Eigen-CAM.
	ones := []float32{1, 1, 1, 1, 1, 1, 1, 1}
	eigenGradCAMMap(got, a, ones, 2, 2, 2)
	closeAll(t, "eigengradcam", got, []float64{0, 0, 0.5 * r5, 1.5 * r5}, 1e-9)
}

// TestEigenPowerIteration compares the SVD projection with a direct power
// iteration on XᵀX.
func TestEigenPowerIteration(t *testing.T) {
	const c, hw = 5, 9
	a := pattern(c*hw, 3)
	for i := range a {
		a[i] += float32(i%hw) * 0.1 * float32(i/hw+1) // a dominant direction
	}
	x := make([][]float64, hw)
	for i := range x {
		x[i] = make([]float64, c)
	}
	for ch := range c {
		var m float64
		for i := range hw {
			m += float64(a[ch*hw+i])
		}
		m /= hw
		for i := range hw {
			x[i][ch] = float64(a[ch*hw+i]) - m
		}
	}
	v := make([]float64, c)
	for i := range v {
		v[i] = 1 / float64(i+1)
	}
	for range 2000 {
		// v ← XᵀX v / |…|
		xv := make([]float64, hw)
		for i := range hw {
			for ch := range c {
				xv[i] += x[i][ch] * v[ch]
			}
		}
		nv := make([]float64, c)
		var norm float64
		for ch := range c {
			for i := range hw {
				nv[ch] += x[i][ch] * xv[i]
			}
			norm += nv[ch] * nv[ch]
		}
		norm = math.Sqrt(norm)
		for ch := range c {
			v[ch] = nv[ch] / norm
		}
	}
	want := make([]float64, hw)
	var dot float64
	for i := range hw {
		for ch := range c {
			want[i] += x[i][ch] * v[ch]
		}
		var rm float64
		for ch := range c {
			rm += float64(a[ch*hw+i]) / c
		}
		dot += want[i] * rm
	}
	if dot < 0 {
		for i := range want {
			want[i] = -want[i]
		}
	}
	got := make([]float64, hw)
	principal(got, a, c, hw)
	closeAll(t, "principal", got, want, 1e-7)
}

// TestHeadGradientFiniteDifference checks the closed form
// ∂s_k/∂A[c,y,x] = W[k,c]/(H·W) against central differences of the model.
func TestHeadGradientFiniteDifference(t *testing.T) {
	net := newTinyNet(3, 4, 5)
	b := Batch{N: 2, C: 3, H: 6, W: 6, Data: pattern(2*3*6*6, 1)}
	ctx := context.Background()
	hd, err := net.LinearHead(ctx, "feat")
	if err != nil {
		t.Fatal(err)
	}
	for k := range net.k {
		fw, fd, err := net.Gradients(ctx, b, "feat", []int{k, k})
		if err != nil {
			t.Fatal(err)
		}
		s := fw.C * fw.H * fw.W
		cf := make([]float32, s)
		headGradient(cf, hd, k, fw.H*fw.W)
		for n := range b.N {
			for i := range s {
				got, want := float64(cf[i]), float64(fd[n*s+i])
				if math.Abs(got-want) > 1e-5 {
					t.Fatalf("class %d image %d: closed form [%d] = %v, finite difference %v", k, n, i, got, want)
				}
			}
		}
	}
}

// TestFastPathEqualsGradients runs each gradient method through the
// closed form (HeadModel) and through the model's gradients
// (ForceGradients), top-3 over a batch of two.
//
// Note for the integrator: here the "graph" gradient is the finite
// difference of a Go model. The same comparison on an exported torchvision
// model, closed form against the ORT gradient graph, belongs beside the
// adapter in onnx/ (or cmd/), where ORT is available.
func TestFastPathEqualsGradients(t *testing.T) {
	net := newTinyNet(3, 4, 5)
	b := Batch{N: 2, C: 3, H: 6, W: 6, Data: pattern(2*3*6*6, 2)}
	ctx := context.Background()
	for _, m := range []Method{GradCAM{}, GradCAMPlusPlus{}, XGradCAM{}, HiResCAM{}, LayerCAM{}, EigenGradCAM{}} {
		t.Run(m.Name(), func(t *testing.T) {
			net.calls = 0
			fast, err := Compute(ctx, net, b, m, Options{Target: TopK(3)})
			if err != nil {
				t.Fatal(err)
			}
			if net.calls != 1 {
				t.Errorf("fast path made %d model calls, want 1", net.calls)
			}
			slow, err := Compute(ctx, net, b, m, Options{Target: TopK(3), ForceGradients: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(fast) != 6 || len(slow) != 6 {
				t.Fatalf("got %d and %d results, want 6", len(fast), len(slow))
			}
			for i := range fast {
				if fast[i].Image != slow[i].Image || fast[i].Class != slow[i].Class || fast[i].Image != i/3 {
					t.Fatalf("result %d: fast (%d,%d) slow (%d,%d)", i, fast[i].Image, fast[i].Class, slow[i].Image, slow[i].Class)
				}
				closeAll(t, m.Name(), fast[i].Map.V, slow[i].Map.V, 2e-4)
			}
		})
	}
}

// TestGradientPathNonLinearHead uses a head on A², where the closed form
// does not apply: the model's gradients are used instead.
func TestGradientPathNonLinearHead(t *testing.T) {
	net := newTinyNet(2, 3, 4)
	net.square = true
	b := Batch{N: 2, C: 2, H: 4, W: 4, Data: pattern(2*2*4*4, 5)}
	ctx := context.Background()
	rs, err := Compute(ctx, net, b, HiResCAM{}, Options{Target: PerImage([]int{1, 3})})
	if err != nil {
		t.Fatal(err)
	}
	fw, _ := net.Forward(ctx, b, "")
	for n, r := range rs {
		// ∂s/∂A = 2·A·W[k,c]/hw, so HiResCAM = ReLU(Σ_c 2·W[k,c]·A²/hw).
		want := make([]float64, 4)
		for c := range 3 {
			for i := range 4 {
				a := float64(fw.Acts[(n*3+c)*4+i])
				want[i] += 2 * net.fc[r.Class*3+c] * a * a / 4
			}
		}
		relu(want)
		closeAll(t, "hirescam", r.Map.V, want, 1e-3)
	}
	if _, err := Compute(ctx, net, b, CAM{}, Options{}); !errors.Is(err, ErrNoHead) {
		t.Errorf("CAM on a non-linear head: err = %v, want ErrNoHead", err)
	}
}

// TestCAMClosedForm: mean over the map of the wsol CAM times C plus the
// bias is the class logit, exactly the GAP→linear head.
func TestCAMClosedForm(t *testing.T) {
	net := newTinyNet(3, 4, 5)
	b := Batch{N: 3, C: 3, H: 8, W: 8, Data: pattern(3*3*8*8, 7)}
	rs, err := Compute(context.Background(), net, b, CAM{}, Options{Target: TopK(5)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		var m float64
		for _, v := range r.Map.V {
			m += v
		}
		m = m/float64(len(r.Map.V))*4 + net.fcB[r.Class]
		if !scalar.EqualWithinAbsOrRel(m, float64(r.Score), 1e-5, 1e-5) {
			t.Errorf("image %d class %d: C·mean(CAM)+b = %v, logit %v", r.Image, r.Class, m, r.Score)
		}
	}
}

// TestAblationReRun compares the closed form with re-running the head on
// the ablated activations, for layers with and without a zero minimum.
func TestAblationReRun(t *testing.T) {
	net := newTinyNet(3, 4, 5)
	const hw = 9
	for _, shift := range []float64{0, -0.3} {
		a64 := make([]float64, 4*hw)
		a := make([]float32, 4*hw)
		for i, v := range pattern(4*hw, 4) {
			a64[i] = max(float64(v), 0) + shift
			a[i] = float32(a64[i])
		}
		lo := a64[0]
		for _, v := range a64 {
			lo = min(lo, v)
		}
		fill := 0.0
		if lo != 0 {
			fill = lo - 1e7
		}
		for k := range net.k {
			s := net.head(a64, hw)[k]
			wts := make([]float64, 4)
			for c := range 4 {
				ab := append([]float64(nil), a64...)
				for i := range hw {
					ab[c*hw+i] = fill
				}
				wts[c] = (s - net.head(ab, hw)[k]) / s
			}
			want := make([]float64, hw)
			weightedSum(want, a, wts, hw)
			relu(want)
			wk := make([]float32, 4)
			for c := range 4 {
				wk[c] = float32(net.fc[k*4+c])
			}
			got := make([]float64, hw)
			ablationMap(got, a, wk, s, 4, hw)
			closeAll(t, "ablation", got, want, 1e-6)
		}
	}
}

// TestScoreCAMKnownAnswer: the layer is two fixed 2×2 channels at the
// input resolution, the score is linear in the pixels, so the masks, the
// scores and the softmax are known: s0 = ln 2, s1 = ln 3, w = (2/5, 3/5).
func TestScoreCAMKnownAnswer(t *testing.T) {
	ln2, ln3 := float32(math.Ln2), float32(math.Log(3))
	net := &pixelNet{c: 1, h: 2, w: 2, k: 1, v: []float32{ln3, 0, 0, ln2},
		acts: []float32{0, 1, 0, 1, 1, 0, 0, 0}, ac: 2, ah: 2, aw: 2}
	b := Batch{N: 1, C: 1, H: 2, W: 2, Data: []float32{1, 1, 1, 1}}
	for _, sc := range []ScoreCAM{{}, {BatchSize: 1}, {HalfPixel: true}} {
		net.calls = 0
		rs, err := Compute(context.Background(), net, b, sc, Options{})
		if err != nil {
			t.Fatal(err)
		}
		closeAll(t, "scorecam", rs[0].Map.V, []float64{0.6, 0.4, 0, 0.4}, 1e-6)
		bs := sc.BatchSize
		if bs == 0 {
			bs = 16
		}
		if want := 1 + (2+bs-1)/bs; net.calls != want {
			t.Errorf("ScoreCAM%+v made %d model calls, want %d", sc, net.calls, want)
		}
	}
}

func TestBilinearAlignCorners(t *testing.T) {
	got := make([]float64, 4)
	bilinearAlignCorners(got, 4, 1, []float64{0, 1}, 2, 1)
	closeAll(t, "align corners", got, []float64{0, 1.0 / 3, 2.0 / 3, 1}, 1e-12)
	got = make([]float64, 9)
	bilinearAlignCorners(got, 3, 3, []float64{0, 2, 4, 6}, 2, 2)
	closeAll(t, "align corners 2d", got, []float64{0, 1, 2, 2, 3, 4, 4, 5, 6}, 1e-12)
}

// linearNet returns a pixel-linear model and one image for the input
// attribution tests: 2 channels of 3×3, 2 classes.
func linearNet() (*pixelNet, Batch) {
	v := pattern(2*2*9, 9)
	return &pixelNet{c: 2, h: 3, w: 3, k: 2, v: v},
		Batch{N: 1, C: 2, H: 3, W: 3, Data: pattern(18, 2)}
}

func TestInputAttributions(t *testing.T) {
	net, b := linearNet()
	ctx := context.Background()
	v := net.v[18:] // class 1
	x := b.Data
	absMaxWant := make([]float64, 9)
	dotWant := make([]float64, 9)
	for c := range 2 {
		for i := range 9 {
			absMaxWant[i] = max(absMaxWant[i], math.Abs(float64(v[c*9+i])))
			dotWant[i] += float64(v[c*9+i]) * float64(x[c*9+i])
		}
	}
	tests := []struct {
		m    Method
		want []float64
	}{
		{Saliency{}, absMaxWant},
		{SmoothGrad{Samples: 5, BatchSize: 2}, absMaxWant},
		{IntegratedGradients{}, dotWant},
		{IntegratedGradients{Steps: 3, Rule: Trapezoid, BatchSize: 3}, dotWant},
		{IntegratedGradients{Steps: 4, Rule: RiemannMiddle}, dotWant},
		{IntegratedGradients{Steps: 2, Rule: RiemannLeft}, dotWant},
		// Occlusion with a 1-pixel window and fill 0 removes v·x per pixel.
		{Occlusion{Window: 1, BatchSize: 4}, dotWant},
	}
	for _, tc := range tests {
		t.Run(tc.m.Name(), func(t *testing.T) {
			rs, err := Compute(ctx, net, b, tc.m, Options{Target: Class(1)})
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Map.W != 3 || rs[0].Map.H != 3 {
				t.Fatalf("map %d×%d, want 3×3", rs[0].Map.W, rs[0].Map.H)
			}
			closeAll(t, tc.m.Name(), rs[0].Map.V, tc.want, 1e-5)
		})
	}
}

// TestIntegratedGradientsBaseline checks completeness against a non-zero
// baseline: the map sums to s(x) − s(x′).
func TestIntegratedGradientsBaseline(t *testing.T) {
	net, b := linearNet()
	base := pattern(18, 5)
	rs, err := Compute(context.Background(), net, b, IntegratedGradients{Baseline: base}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var sum, want float64
	for _, v := range rs[0].Map.V {
		sum += v
	}
	k := rs[0].Class
	for i, vv := range net.v[k*18 : (k+1)*18] {
		want += float64(vv) * (float64(b.Data[i]) - float64(base[i]))
	}
	if !scalar.EqualWithinAbsOrRel(sum, want, 1e-5, 1e-5) {
		t.Errorf("Σ IG = %v, want s(x)−s(x′) = %v", sum, want)
	}
	if _, err := Compute(context.Background(), net, b, IntegratedGradients{Baseline: base[:5]}, Options{}); !errors.Is(err, ErrShape) {
		t.Errorf("short baseline: err = %v, want ErrShape", err)
	}
}

func TestOcclusionWindows(t *testing.T) {
	tests := []struct {
		n, win, stride int
		want           []int
	}{
		{10, 4, 2, []int{0, 2, 4, 6}},
		{10, 4, 4, []int{0, 4, 6}},
		{4, 4, 2, []int{0}},
		{5, 1, 3, []int{0, 3, 4}},
	}
	for _, tc := range tests {
		got := starts(tc.n, tc.win, tc.stride)
		if len(got) != len(tc.want) {
			t.Errorf("starts(%d, %d, %d) = %v, want %v", tc.n, tc.win, tc.stride, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("starts(%d, %d, %d) = %v, want %v", tc.n, tc.win, tc.stride, got, tc.want)
			}
		}
	}
}

func TestComputeErrors(t *testing.T) {
	ctx := context.Background()
	net := newTinyNet(3, 4, 5)
	b := Batch{N: 2, C: 3, H: 4, W: 4, Data: pattern(2*3*4*4, 1)}
	px, pb := linearNet()
	tests := []struct {
		name string
		m    Model
		b    Batch
		meth Method
		opt  Options
		want error
	}{
		{"class range head", net, b, GradCAM{}, Options{Target: Class(5)}, ErrClassRange},
		{"class range gradients", net, b, GradCAM{}, Options{Target: Class(5), ForceGradients: true}, ErrClassRange},
		{"negative class", net, b, HiResCAM{}, Options{Target: Class(-1), ForceGradients: true}, ErrClassRange},
		{"per-image length", net, b, CAM{}, Options{Target: PerImage([]int{1})}, ErrTarget},
		{"per-image range", net, b, EigenCAM{}, Options{Target: PerImage([]int{1, 9})}, ErrClassRange},
		{"no head", px, pb, CAM{}, Options{}, ErrNoHead},
		{"no ablation head", px, pb, AblationCAM{}, Options{}, ErrNoHead},
		{"no gradients", px, pb, GradCAM{}, Options{}, ErrNoGradients},
		{"no input gradients", net, b, Saliency{}, Options{}, ErrNoGradients},
		{"saliency range", px, pb, Saliency{}, Options{Target: Class(2)}, ErrClassRange},
		{"bad batch", net, Batch{N: 1, C: 3, H: 4, W: 4}, CAM{}, Options{}, ErrShape},
	}
	for _, m := range []Method{ScoreCAM{}, GradCAM{}, HiResCAM{}} {
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := Compute(canceled, net, b, m, Options{ForceGradients: true}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: err = %v", m.Name(), err)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compute(ctx, tc.m, tc.b, tc.meth, tc.opt)
			if !errors.Is(err, tc.want) {
				t.Errorf("Compute = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestAllMethodsRun runs every registered method on the tiny network (a
// HeadModel and GradientModel) or, for the input attributions, on the
// pixel-linear model, and checks shapes, order and finiteness.
func TestAllMethodsRun(t *testing.T) {
	ctx := context.Background()
	net := newTinyNet(3, 4, 5)
	b := Batch{N: 2, C: 3, H: 8, W: 8, Data: pattern(2*3*8*8, 3)}
	px, pb := linearNet()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			m, err := Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			var model Model = net
			bb := b
			if _, ok := m.(Occlusion); ok {
				// Occlusion works on any model.
			} else if NeedsGradients(m) && !isGradFamily(m) {
				model, bb = px, pb
			}
			var calls int
			rs, err := Compute(ctx, model, bb, m, Options{Target: TopK(2), Progress: func(done, total int) {
				calls++
				if done > total {
					t.Errorf("progress %d/%d", done, total)
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 2*bb.N || calls == 0 {
				t.Fatalf("%d results, %d progress calls", len(rs), calls)
			}
			for i, r := range rs {
				if r.Image != i/2 {
					t.Errorf("result %d is image %d", i, r.Image)
				}
				if len(r.Map.V) != r.Map.W*r.Map.H || r.Map.W == 0 {
					t.Errorf("result %d: map %d×%d with %d values", i, r.Map.W, r.Map.H, len(r.Map.V))
				}
				for _, v := range r.Map.V {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("result %d: non-finite value", i)
					}
				}
			}
		})
	}
}

func isGradFamily(m Method) bool {
	switch m.(type) {
	case GradCAM, GradCAMPlusPlus, XGradCAM, HiResCAM, LayerCAM, EigenGradCAM:
		return true
	}
	return false
}

// scoringNet is a tinyNet that also implements Scorer, counting its calls.
type scoringNet struct {
	*tinyNet
	scores int
}

func (s *scoringNet) Scores(ctx context.Context, b Batch) ([]float32, int, error) {
	s.scores++
	fw, err := s.tinyNet.Forward(ctx, b, "")
	return fw.Logits, fw.K, err
}

// TestScorer checks that the score-only methods give the same maps with a
// Scorer and take their masked passes through it: Score-CAM's and
// occlusion's masked forwards and the top-k resolution.
func TestScorer(t *testing.T) {
	b := Batch{N: 2, C: 3, H: 6, W: 6, Data: pattern(2*3*6*6, 7)}
	ctx := context.Background()
	for _, m := range []Method{ScoreCAM{BatchSize: 2}, Occlusion{Window: 2, BatchSize: 4}} {
		opt := Options{Target: TopK(2)}
		plain, err := Compute(ctx, newTinyNet(3, 4, 5), b, m, opt)
		if err != nil {
			t.Fatal(err)
		}
		sn := &scoringNet{tinyNet: newTinyNet(3, 4, 5)}
		got, err := Compute(ctx, sn, b, m, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(plain) {
			t.Fatalf("%s: %d results with a Scorer, %d without", m.Name(), len(got), len(plain))
		}
		for i := range got {
			if got[i].Class != plain[i].Class {
				t.Errorf("%s: result %d class %d with a Scorer, %d without", m.Name(), i, got[i].Class, plain[i].Class)
			}
			closeAll(t, m.Name(), got[i].Map.V, plain[i].Map.V, 0)
		}
		if sn.scores == 0 {
			t.Errorf("%s never called Scores", m.Name())
		}
		// Scores counts as a tinyNet call too.
		if _, isScore := m.(ScoreCAM); isScore && sn.calls-sn.scores != 1 {
			t.Errorf("scorecam made %d Forward calls with a Scorer, want 1 (the layer's activations)", sn.calls-sn.scores)
		}
	}
}
